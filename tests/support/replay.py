"""A stand-in for the paper desk in replay tests: it consumes market events with a small buffer,
takes `delay` seconds over each, then marks its progress like the desk does."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from quantdesk.infra.events import EventBus, MarketEvent, MarketProgress, Subscription


class SlowConsumer:
    def __init__(
        self,
        bus: EventBus,
        progress: MarketProgress,
        topic: str,
        *,
        delay: float = 0.02,
        maxsize: int = 1,
    ) -> None:
        self.bus, self.progress, self.topic = bus, progress, topic
        self.delay, self.maxsize = delay, maxsize
        self.processed: list[int] = []  # market times, in the order they were finished
        self.subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SlowConsumer:
        self.subscription = await self.bus.subscribe(self.topic, maxsize=self.maxsize)
        self._handle = self.progress.register()
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self.subscription is not None
        async for event in self.subscription:
            payload = event.payload
            if isinstance(payload, MarketEvent):
                await asyncio.sleep(self.delay)
                self.processed.append(payload.ts)
                self._handle.mark(payload.symbol, payload.ts)

    @property
    def dropped(self) -> int:
        return self.subscription.dropped if self.subscription is not None else 0

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._handle.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.subscription is not None:
            await self.subscription.aclose()
