"""Which events webhooks carry, who may receive each one, and the body they are sent as.

`WEBHOOK_EVENTS` are the public events (infra/events/catalog.py) written to the outbox in the
transaction of their cause. Market events (`price_update`, `bar`) are not among them: they are
published on the bus without a transaction, several per second per symbol, and stream over
WebSockets (docs/realtime.md) instead; so does a sweep's `backtest_progress` (one per chunk).

Ownership: `order_update` (topic `orders.<account_id>`) reaches the account owner's webhooks
only; `alert_triggered`, `backtest_completed`, `export_ready` (topics `alerts.<user_id>`,
`backtests.<user_id>`, `exports.<user_id>`) the user's; `job_failed` only admins' webhooks;
`new_signal`, `signal_closed` and `news` every webhook subscribed to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from quantdesk.infra.events import Event
from quantdesk.infra.events.catalog import PUBLIC_EVENTS, public_event_name

MARKET_EVENTS = frozenset({"price_update", "bar"})
# A sweep's progress comes once per chunk (hundreds per run): streamed, not a webhook.
STREAM_ONLY = MARKET_EVENTS | {"backtest_progress"}
WEBHOOK_EVENTS: tuple[str, ...] = tuple(e for e in PUBLIC_EVENTS if e not in STREAM_ONLY)
TEST_EVENT = "webhook.test"
ACCOUNT_OWNED = frozenset({"order_update"})
USER_OWNED = frozenset({"alert_triggered", "backtest_completed", "export_ready"})
ADMIN_ONLY = frozenset({"job_failed"})


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event bound for webhooks: its name, who owns it, and its body."""

    name: str
    owner_user_id: int | None  # USER_OWNED
    owner_account_id: str | None  # ACCOUNT_OWNED
    body: str


def _topic_suffix(topic: str) -> str:
    return topic.split(".", 1)[1] if "." in topic else ""


def body(name: str, data: dict[str, object], at: datetime | None = None) -> str:
    """The Standard Webhooks body: `{"type", "timestamp", "data"}`."""
    stamp = (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    return orjson.dumps({"type": name, "timestamp": stamp, "data": data}).decode()


def outgoing(event: Event) -> Outgoing | None:
    """The webhook form of `event`, or None when webhooks do not carry it (or its owner cannot
    be told from its topic: then it reaches nobody rather than the wrong user)."""
    name = public_event_name(event)
    if name not in WEBHOOK_EVENTS:
        return None
    user_id: int | None = None
    account_id: str | None = None
    if name in ACCOUNT_OWNED:
        account_id = _topic_suffix(event.topic) or None
        if account_id is None:
            return None
    elif name in USER_OWNED:
        suffix = _topic_suffix(event.topic)
        if not suffix.isdigit():
            return None
        user_id = int(suffix)
    return Outgoing(name, user_id, account_id, body(name, event.payload.to_dict()))
