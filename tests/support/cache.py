"""A fake clock, a counting compute function and the cache maker the cache tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from quantdesk.infra.cache import Cache

CacheMaker = Callable[..., Cache]


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Compute:
    """An async compute function that counts its calls and answers `<prefix><call number>`."""

    def __init__(self, prefix: str = "v", *, delay: float = 0.0) -> None:
        self.prefix = prefix
        self.delay = delay
        self.calls = 0
        self.failures: list[Exception] = []

    async def __call__(self) -> str:
        self.calls += 1
        call = self.calls
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        return f"{self.prefix}{call}"
