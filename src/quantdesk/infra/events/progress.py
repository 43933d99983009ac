"""`MarketProgress`: how far the consumers of market events have got, per symbol, in market time.

A producer that must not outrun its consumers (a market replay at speed 0, a replay step)
publishes a market event and then awaits `wait_for(symbol, ts, timeout)`; a consumer (the
paper-trading desk) calls `mark(symbol, ts)` once it has finished with the event of `symbol` at
market time `ts` — processed it, or deliberately ignored it (a duplicate, another mode's event):
every event it receives is marked, otherwise the producer waits for the timeout.

- Consumers register (`register()`, a handle usable as a context manager) and mark through
  their handle. While none is registered (`consumers == 0`) every wait returns True at once:
  nobody is there to wait for. A consumer that unregisters no longer holds anyone back.
- `wait_for` answers True once EVERY registered consumer has marked the symbol at `ts` or
  later since the last `reset(symbol)` (a replay resets its symbol before its first bar, since
  a replay may go back in market time), False after `timeout` seconds. So a registered
  consumer must mark every market event it receives, of every symbol it subscribes to (the
  desk subscribes to all of them), or the producer waits for the timeout.
- One object per process (`AppState.market_progress`), used from the event loop that owns it;
  it only sees consumers of its own process (a replay run by the CLI against a server's desk
  over Redis cannot wait for it and paces by `speed` alone).
"""

from __future__ import annotations

import asyncio
import itertools
from types import TracebackType


class ProgressConsumer:
    """A registered consumer's handle: `mark()` through it, `close()` (or leave the `with`
    block) when it stops consuming."""

    def __init__(self, progress: MarketProgress, key: int) -> None:
        self._progress = progress
        self.key = key
        self.closed = False

    def mark(self, symbol: str, ts: int) -> None:
        """This consumer has finished with the event of `symbol` at market time `ts`."""
        if not self.closed:
            self._progress._mark(self.key, symbol, ts)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._progress._unregister(self.key)

    def __enter__(self) -> ProgressConsumer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class MarketProgress:
    def __init__(self) -> None:
        self._keys = itertools.count(1)
        self._consumers: set[int] = set()
        self._marks: dict[str, dict[int, int]] = {}  # symbol -> consumer -> latest ts
        self._waiters: dict[str, list[tuple[int, asyncio.Future[bool]]]] = {}

    @property
    def consumers(self) -> int:
        return len(self._consumers)

    def register(self) -> ProgressConsumer:
        key = next(self._keys)
        self._consumers.add(key)
        return ProgressConsumer(self, key)

    def marked(self, symbol: str) -> int | None:
        """The market time every registered consumer has reached for `symbol` since its last
        reset (None when one of them has marked nothing yet, or none is registered)."""
        marks = self._marks.get(symbol, {})
        if not self._consumers or any(key not in marks for key in self._consumers):
            return None
        return min(marks[key] for key in self._consumers)

    def mark(self, symbol: str, ts: int) -> None:
        """Mark `symbol` at `ts` on behalf of every registered consumer (a producer that knows
        they are all done; a consumer marks through its own handle)."""
        for key in list(self._consumers):
            self._set(key, symbol, ts)
        self._wake(symbol)

    def _mark(self, key: int, symbol: str, ts: int) -> None:
        self._set(key, symbol, ts)
        self._wake(symbol)

    def _set(self, key: int, symbol: str, ts: int) -> None:
        marks = self._marks.setdefault(symbol, {})
        if key not in marks or ts > marks[key]:
            marks[key] = ts

    def _unregister(self, key: int) -> None:
        self._consumers.discard(key)
        for marks in self._marks.values():
            marks.pop(key, None)
        for symbol in list(self._waiters):  # the others may be done already
            self._wake(symbol)

    def _satisfied(self, symbol: str, ts: int) -> bool:
        if not self._consumers:
            return True
        reached = self.marked(symbol)
        return reached is not None and reached >= ts

    def _wake(self, symbol: str) -> None:
        waiters = self._waiters.get(symbol)
        if not waiters:
            return
        still = []
        for wanted, future in waiters:
            if future.done():
                continue
            if self._satisfied(symbol, wanted):
                future.set_result(True)
            else:
                still.append((wanted, future))
        if still:
            self._waiters[symbol] = still
        else:
            del self._waiters[symbol]

    def reset(self, symbol: str) -> None:
        """Forget the marks of `symbol` (market time may go backwards from here: a replay)."""
        self._marks.pop(symbol, None)

    async def wait_for(self, symbol: str, ts: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once every registered consumer has marked `symbol` at `ts` or later (at once
        when none is registered); False when `timeout` seconds pass first."""
        if self._satisfied(symbol, ts):
            return True
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(symbol, []).append((ts, future))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return False
        finally:
            waiters = self._waiters.get(symbol)
            if waiters is not None:
                remaining = [(t, f) for t, f in waiters if f is not future]
                if remaining:
                    self._waiters[symbol] = remaining
                else:
                    del self._waiters[symbol]
