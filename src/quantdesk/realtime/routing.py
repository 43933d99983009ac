"""Which stream an event belongs to, and which subscribers may see it (docs/realtime.md).

A *stream* is the unit of sequencing and replay, and is what a frame's `channel` names:
`quotes:<SYMBOL>`, `bars:<SYMBOL>:<timeframe>`, `signals:<SYMBOL>`, `news:<SYMBOL>`,
`orders:<account_id>`, `alerts:<user_id>`, `jobs:backtests:<user_id>`,
`jobs:exports:<user_id>`, `jobs:failed`. Subscribers are indexed by (channel, key): the symbol
for market channels, the owning user id for orders, alerts and jobs, `*` for everything on the
channel (market data, and an admin's `jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from quantdesk.infra.events import Event, MarketEvent, check_topic

# Bus prefixes the hub listens on (one subscription each).
BUS_PREFIXES: tuple[str, ...] = (
    "market.quote.",
    "market.bar.",
    "signals.",
    "news.",
    "orders.",
    "alerts.",
    "backtests.",
    "exports.",
    "jobs.",
)
ADMIN_ONLY = ""  # the key of streams only `*` subscribers (admins) see


@dataclass(frozen=True, slots=True)
class Route:
    channel: str
    key: str  # symbol, owner user id, an account id to resolve (orders), or ADMIN_ONLY
    stream: str


def route(event: Event) -> Route | None:
    """The event's route, or None for events no stream carries (replay status, unknown)."""
    topic, payload = event.topic, event.payload
    if isinstance(payload, MarketEvent):
        if payload.kind == "quote":
            return Route("quotes", payload.symbol, f"quotes:{payload.symbol}")
        return Route("bars", payload.symbol, f"bars:{payload.symbol}:{payload.timeframe}")
    head, _, rest = topic.partition(".")
    if not rest:
        return None
    if head in ("signals", "news"):
        return Route(head, rest, f"{head}:{rest}")
    if head == "orders":  # key: the account id; the hub resolves its owner
        return Route("orders", rest, f"orders:{rest}")
    if head == "alerts":
        return Route("alerts", rest, f"alerts:{rest}")
    if head in ("backtests", "exports"):
        return Route("jobs", rest, f"jobs:{head}:{rest}")
    if head == "jobs" and rest == "failed":
        return Route("jobs", ADMIN_ONLY, "jobs:failed")
    return None


def stream_route(stream: str) -> Route | None:
    """The route of a stream name (the inverse of `route`; a client names streams in
    `since_seq`), or None for a name no stream has."""
    head, _, rest = stream.partition(":")
    if not rest:
        return None
    if head in ("quotes", "signals", "news", "alerts", "orders"):
        return Route(head, rest, stream)
    if head == "bars":
        symbol, _, timeframe = rest.rpartition(":")
        return Route("bars", symbol, stream) if symbol and timeframe else None
    if head == "jobs":
        if rest == "failed":
            return Route("jobs", ADMIN_ONLY, stream)
        kind, _, owner = rest.partition(":")
        if kind in ("backtests", "exports") and owner:
            return Route("jobs", owner, stream)
    return None


def stream_topic(stream: str) -> str:
    """The bus topic a stream's events are published on (ValueError for a name that is not a
    stream, or whose topic could not exist)."""
    found = stream_route(stream)
    if found is None:
        raise ValueError(f"not a stream: {stream!r}")
    head, _, rest = stream.partition(":")
    if head == "quotes":
        topic = f"market.quote.{rest}"
    elif head == "bars":
        symbol, _, timeframe = rest.rpartition(":")
        topic = f"market.bar.{symbol}.{timeframe}"
    elif head == "jobs":
        topic = "jobs.failed" if rest == "failed" else rest.replace(":", ".", 1)
    else:
        topic = f"{head}.{rest}"
    return check_topic(topic)
