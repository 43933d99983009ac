"""Emitting domain events from inside a unit of work (docs/events.md, "Emitting").

`await emit(session, bus, payloads)` is how a domain announces what its transaction did (an
order placed, a signal opened, a backtest finished):

1. every registered **transactional hook** runs now, inside the caller's transaction, with the
   events: a hook writes rows that must commit or roll back together with their cause (the
   webhooks outbox inserts its delivery rows here, so a committed event is never lost and a
   rolled-back one is never delivered);
2. once the transaction commits (never on rollback) the events are published on the bus, in
   order, for the at-most-once consumers (WebSocket streams, the desk).

Hooks register once per process (`on_emit`, at import of the consuming domain); they must be
cheap when nobody is interested (one indexed query, or a cached answer) because every
order placement runs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import after_commit_async
from quantdesk.infra.events.bus import EventBus
from quantdesk.infra.events.event import Event, Payload


class TopicPayload(Payload, Protocol):
    """A payload that names its own topic (every domain event does)."""

    @property
    def topic(self) -> str: ...


TransactionalHook = Callable[[AsyncSession, Sequence[Event]], Awaitable[None]]

_hooks: list[TransactionalHook] = []


def on_emit(hook: TransactionalHook) -> TransactionalHook:
    """Run `hook(session, events)` inside every emitting transaction (idempotent; usable as
    a decorator)."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def remove_emit_hook(hook: TransactionalHook) -> None:
    """Undo `on_emit` (tests)."""
    if hook in _hooks:
        _hooks.remove(hook)


async def emit(
    session: AsyncSession, bus: EventBus | None, payloads: Sequence[TopicPayload]
) -> None:
    """Run the transactional hooks on `payloads` now, and publish them on `bus` (if any)
    once the session's transaction commits."""
    if not payloads:
        return
    events = [Event(payload.topic, payload) for payload in payloads]
    for hook in list(_hooks):
        await hook(session, events)
    if bus is None:
        return
    publisher = bus

    async def publish() -> None:
        for event in events:
            await publisher.publish(event.topic, event.payload)

    after_commit_async(session, publish)
