"""The `EventBus` interface both implementations satisfy (memory.py, redis_bus.py)."""

from __future__ import annotations

from typing import Protocol

from quantdesk.infra.events.event import Payload
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
