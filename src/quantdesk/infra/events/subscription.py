"""A subscription: a bounded buffer of events one consumer reads, as an async iterator.

Overflow policy: the publisher never waits for a consumer. When a subscriber's buffer holds
`maxsize` events, the oldest one is dropped to make room for the new one and counted in
`dropped` (the first drop of a run is logged): a slow consumer loses the stale events first and
always gets the newest market state. Consumers that cannot afford gaps read faster, raise
`QUANTDESK_EVENTS_QUEUE_SIZE`, or catch up from the database.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType

from quantdesk.infra.events.event import Event, check_pattern
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.events")


class SubscriptionClosed(Exception):
    """`get()` on a subscription that was closed."""


class Subscription:
    """Events for one pattern, oldest first; `async for event in subscription` until closed.

    Close it with `aclose()` (or use it as `async with`): delivery stops at once and events
    still buffered are discarded.
    """

    def __init__(
        self,
        pattern: str,
        maxsize: int,
        *,
        on_close: Callable[[Subscription], Awaitable[None]] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize: at least 1")
        self.pattern = check_pattern(pattern)
        self.maxsize = maxsize
        self.dropped = 0
        self.delivered = 0
        self._items: deque[Event] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._on_close = on_close
        self._overflowing = False

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        """Events waiting to be read."""
        return len(self._items)

    def deliver(self, event: Event) -> None:
        """Buffer one event (called by the bus; never blocks, drops the oldest when full)."""
        if self._closed:
            return
        if len(self._items) >= self.maxsize:
            self._items.popleft()
            self.dropped += 1
            if not self._overflowing:
                self._overflowing = True
                log.warning(
                    "events.subscriber_overflow",
                    pattern=self.pattern,
                    maxsize=self.maxsize,
                    dropped=self.dropped,
                )
        else:
            self._overflowing = False
        self._items.append(event)
        self.delivered += 1
        self._wakeup.set()

    def get_nowait(self) -> Event | None:
        """The oldest buffered event, or None when there is none."""
        return self._items.popleft() if self._items else None

    async def get(self) -> Event:
        """The oldest buffered event, waiting for one; SubscriptionClosed once closed."""
        while not self._items:
            if self._closed:
                raise SubscriptionClosed(self.pattern)
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._items.popleft()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Stop delivery (idempotent); a reader waiting in `get()` is woken and told so."""
        if self._closed:
            return
        self._closed = True
        self._items.clear()
        self._wakeup.set()
        if self._on_close is not None:
            await self._on_close(self)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
