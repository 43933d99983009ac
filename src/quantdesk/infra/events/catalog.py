"""The public event names: what WebSocket frames (`type`) and webhook subscriptions (`events`)
call each kind of event (docs/realtime.md, docs/webhooks.md).

One rule: a payload's `type_name` is its public name, except `MarketEvent` (type_name
`market`), whose `quote` events are `price_update` and `bar` events are `bar`. Internal payloads
(`replay`) keep their type_name but are not in `PUBLIC_EVENTS`, so nothing outside subscribes to
them.
"""

from __future__ import annotations

from quantdesk.infra.events.event import Event, MarketEvent, Payload

PUBLIC_EVENTS: tuple[str, ...] = (
    "price_update",
    "bar",
    "new_signal",
    "signal_closed",
    "order_update",
    "alert_triggered",
    "news",
    "backtest_completed",
    "backtest_progress",
    "export_ready",
    "job_failed",
)


def payload_event_name(payload: Payload) -> str:
    """The public name of one payload (see the module docstring)."""
    if isinstance(payload, MarketEvent):
        return "price_update" if payload.kind == "quote" else "bar"
    return payload.type_name


def public_event_name(event: Event) -> str:
    """The public name of an event (`price_update`, `order_update`, ...)."""
    return payload_event_name(event.payload)


def is_public(event: Event) -> bool:
    """Whether the event is one of `PUBLIC_EVENTS` (streams and webhooks carry only these)."""
    return public_event_name(event) in PUBLIC_EVENTS
