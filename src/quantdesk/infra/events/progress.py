"""`MarketProgress`: how far the consumers of market events have got, per symbol, in market time.

A producer that must not outrun its consumers (a market replay at speed 0, a replay step)
publishes a market event and then awaits `wait_for(symbol, ts, timeout)`; a consumer (the
paper-trading desk) calls `mark(symbol, ts)` once it has finished with the event of `symbol` at
market time `ts` — processed it, or deliberately ignored it (a duplicate, another mode's event):
every event it receives is marked, otherwise the producer waits for the timeout.

- Consumers register (`register()`, a handle usable as a context manager); while none is
  registered (`consumers == 0`) every wait returns True at once: nobody is there to wait for.
  Unregistering the last consumer releases the waiters too.
- `wait_for` answers True once a mark with `ts >=` the asked one exists for the symbol since
  the last `reset(symbol)` (a replay resets its symbol before its first bar, since a replay may
  go back in market time), False after `timeout` seconds.
- One object per process (`AppState.market_progress`), used from the event loop that owns it;
  it only sees consumers of its own process (a replay run by the CLI against a server's desk
  over Redis cannot wait for it and paces by `speed` alone).
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class ProgressConsumer:
    """A registered consumer's handle: `mark()` through it, `close()` (or leave the `with`
    block) when it stops consuming."""

    def __init__(self, progress: MarketProgress) -> None:
        self._progress = progress
        self.closed = False

    def mark(self, symbol: str, ts: int) -> None:
        self._progress.mark(symbol, ts)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._progress._unregister()

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
        self._consumers = 0
        self._marks: dict[str, int] = {}
        self._waiters: dict[str, list[tuple[int, asyncio.Future[bool]]]] = {}

    @property
    def consumers(self) -> int:
        return self._consumers

    def register(self) -> ProgressConsumer:
        self._consumers += 1
        return ProgressConsumer(self)

    def _unregister(self) -> None:
        self._consumers -= 1
        if self._consumers == 0:  # nobody left to wait for
            for waiters in self._waiters.values():
                for _, future in waiters:
                    if not future.done():
                        future.set_result(True)
            self._waiters.clear()

    def marked(self, symbol: str) -> int | None:
        """The latest market time marked for `symbol` since its last reset."""
        return self._marks.get(symbol)

    def mark(self, symbol: str, ts: int) -> None:
        """A consumer has finished with the event of `symbol` at market time `ts`."""
        current = self._marks.get(symbol)
        if current is None or ts > current:
            self._marks[symbol] = ts
        waiters = self._waiters.get(symbol)
        if not waiters:
            return
        still = []
        for wanted, future in waiters:
            if future.done():
                continue
            if wanted <= self._marks[symbol]:
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
        """True once the consumers have marked `symbol` at `ts` or later (at once when no
        consumer is registered); False when `timeout` seconds pass first."""
        if self._consumers == 0:
            return True
        current = self._marks.get(symbol)
        if current is not None and current >= ts:
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
