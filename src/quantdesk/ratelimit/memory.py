"""Per-process moving-window storage for `limits`, in O(1) per request.

`limits`' own MemoryStorage keeps each key's window as a newest-first list and inserts at the
front (`events[key][:0] = ...`), so a hit costs O(requests in the window): at a premium tier
of 1000/minute that is a thousand-pointer move per request, and a generous tier turns the
limiter into the bottleneck. Here each window is a deque of timestamps, oldest first: expired
entries leave from the left, new ones join on the right. The answers are the same as the
library's (same moving-window rule, same `(window start, count)`), and everything else
(fixed windows, counters used by abuse blocking) is the library's MemoryStorage unchanged.
"""

from __future__ import annotations

import time
from collections import deque

from limits.aio.storage import MemoryStorage

# Idle keys are dropped on a sweep at most this often (a sweep is O(keys)).
SWEEP_SECONDS = 60.0


class _Window:
    __slots__ = ("expiry", "times")

    def __init__(self, expiry: int) -> None:
        self.expiry = expiry
        self.times: deque[float] = deque()

    def prune(self, now: float) -> None:
        times, cutoff = self.times, now - self.expiry
        while times and times[0] < cutoff:
            times.popleft()


class MovingWindowMemoryStorage(MemoryStorage):
    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.windows: dict[str, _Window] = {}
        self._next_sweep = time.monotonic() + SWEEP_SECONDS

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        self._maybe_sweep()
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = _Window(expiry)
        now = time.time()
        window.prune(now)
        # No await between the check and the append: atomic on the event loop.
        if len(window.times) + amount > limit:
            return False
        window.times.extend([now] * amount)
        return True

    def hit_with_window(self, key: str, limit: int, expiry: int) -> tuple[bool, tuple[float, int]]:
        """`acquire_entry` then `get_moving_window` in one synchronous call: the limiter's
        hot path when counting is per process (no awaits, no second key lookup)."""
        if limit < 1:
            return False, self._window_of(key, time.time())
        self._maybe_sweep()
        window = self.windows.get(key)
        if window is None:
            window = self.windows[key] = _Window(expiry)
        now = time.time()
        window.prune(now)
        allowed = len(window.times) + 1 <= limit
        if allowed:
            window.times.append(now)
        return allowed, self._window_of(key, now)

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self._window_of(key, time.time())

    def _window_of(self, key: str, now: float) -> tuple[float, int]:
        window = self.windows.get(key)
        if window is None:
            return now, 0
        window.prune(now)
        times, start = window.times, 0
        # Like the library: an entry exactly `expiry` old still blocks a new one (above) but
        # no longer counts as inside the window here.
        while start < len(times) and times[start] <= now - window.expiry:
            start += 1
        if start == len(times):
            return now, 0
        return times[start], len(times) - start

    async def clear(self, key: str) -> None:
        self.windows.pop(key, None)
        await super().clear(key)

    async def reset(self) -> int | None:
        dropped = len(self.windows)
        self.windows.clear()
        counted = await super().reset()
        return max(dropped, counted or 0)

    def _maybe_sweep(self) -> None:
        now_monotonic = time.monotonic()
        if now_monotonic < self._next_sweep:
            return
        self._next_sweep = now_monotonic + SWEEP_SECONDS
        now = time.time()
        idle = [
            key
            for key, window in self.windows.items()
            if not window.times or window.times[-1] < now - window.expiry
        ]
        for key in idle:
            del self.windows[key]
