"""Per-process counters: the rate limiter's sliding-window counters (`WindowCounters`), and
the moving-window storage `limits` strategies use (login throttling, abuse counters).

The moving-window storage is amortised O(1) per request as well: `limits`' own MemoryStorage
keeps each key's window as a newest-first list and inserts at the front
(`events[key][:0] = ...`), so a hit costs O(requests in the window). Here each window is a
deque of timestamps, oldest first: expired entries leave from the left, new ones join on the
right. The answers are the same as the library's (same moving-window rule, same
`(window start, count)`), and everything else (fixed windows, counters used by abuse
blocking) is the library's MemoryStorage unchanged.
"""

from __future__ import annotations

import time
from collections import deque

from limits.aio.storage import MemoryStorage

from quantdesk.ratelimit.window import Counted, admits, roll

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


class WindowCounters:
    """Per-process sliding-window counters (ratelimit/window.py): three integers per key.

    `hit` is synchronous (no await between reading and writing a key's state, so it is atomic
    on the event loop); `ahit` is the same for callers that expect a coroutine, like the Redis
    counters. Keys idle for two windows are dropped on a sweep at most every SWEEP_SECONDS
    (of the callers' clock).
    """

    __slots__ = ("_next_sweep_ms", "states")

    def __init__(self) -> None:
        # key -> [window index, current count, previous count, window ms]
        self.states: dict[str, list[int]] = {}
        self._next_sweep_ms = 0

    def hit(self, key: str, limit: int, window_ms: int, index: int, elapsed: int) -> Counted:
        state = self.states.get(key)
        if state is None:
            now_ms = index * window_ms + elapsed
            if now_ms >= self._next_sweep_ms:
                self._sweep(now_ms)
            if limit < 1:  # `admits` with nothing counted yet
                return False, index, elapsed, 0, 0
            self.states[key] = [index, 1, 0, window_ms]
            return True, index, elapsed, 1, 0
        stored = state[0]
        if stored == index:
            current, previous = state[1], state[2]
        else:
            index, elapsed, current, previous = roll(stored, state[1], state[2], index, elapsed)
        if not admits(limit, window_ms, elapsed, current, previous):
            return False, index, elapsed, current, previous
        current += 1
        state[0], state[1], state[2] = index, current, previous
        return True, index, elapsed, current, previous

    async def ahit(self, key: str, limit: int, window_ms: int, index: int, elapsed: int) -> Counted:
        return self.hit(key, limit, window_ms, index, elapsed)

    def clear(self) -> None:
        self.states.clear()

    def _sweep(self, now_ms: int) -> None:
        """Drop keys idle for two windows (run when a new key arrives, at most every
        SWEEP_SECONDS: O(keys))."""
        self._next_sweep_ms = now_ms + int(SWEEP_SECONDS * 1000)
        idle = [key for key, s in self.states.items() if (s[0] + 2) * s[3] <= now_ms]
        for key in idle:
            del self.states[key]
