"""The `EventBus` interface both implementations satisfy (memory.py, redis_bus.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from quantdesk.infra.events.event import Event, Payload
from quantdesk.infra.events.subscription import Subscription


class EventBus(Protocol):
    name: str  # "memory" or "redis"

    async def publish(self, topic: str, payload: Payload) -> int:
        """Send `payload` on `topic` without waiting for any consumer.

        Answers how many subscriptions it reached (Redis: subscribed connections, across
        processes); 0 also when Redis could not be reached (logged, never raised).
        ValueError for a malformed topic.
        """
        ...

    async def subscribe(self, pattern: str, *, maxsize: int | None = None) -> Subscription:
        """A subscription to one exact topic or to a prefix ending in `.`, active on return:
        every event published afterwards reaches it (barring overflow and Redis outages).
        `maxsize` overrides the bus's per-subscriber buffer size."""
        ...

    async def aclose(self) -> None:
        """Close every subscription and connection (idempotent)."""
        ...


@dataclass(frozen=True, slots=True)
class LogSlice:
    """What a topic's event log holds after a sequence number (`EventLog.read_log`)."""

    epoch: str  # the numbering in force (a new one after Redis lost its data)
    last_seq: int  # the topic's last number (0: nothing published in this epoch)
    events: list[Event]  # the newest held events after the asked seq, oldest first


@runtime_checkable
class EventLog(Protocol):
    """A bus that numbers each topic's events for every process and keeps the recent ones
    (the Redis bus; the memory bus does not)."""

    async def read_log(self, topic: str, after: int, limit: int) -> LogSlice:
        """At most `limit` of the newest events of `topic` numbered after `after`;
        Redis errors are raised."""
        ...

    async def log_epoch(self) -> str:
        """The numbering in force (created when Redis holds none)."""
        ...
