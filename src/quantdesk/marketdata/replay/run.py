"""One market replay: stored bars read in chunks and published one by one as market events.

Pacing. `speed` is bars per second: the loop publishes a bar, waits until the in-process
consumers have finished with it (`MarketProgress.wait_for`, at most `progress_timeout` seconds;
at once when no consumer is registered), then sleeps whatever is left of the bar's 1/speed
slot. So a consumer slower than `speed` slows the replay down instead of losing bars, and
speed 0 (no sleep) runs exactly as fast as the consumers process. A paused replay publishes
nothing by itself; `step(n)` publishes the next n bars, each after the previous one has been
processed, and returns once the last one has been.

Events: `ReplayStatus(started)` on `market.replay.<SYMBOL>` before the first bar; each bar as
`MarketEvent(kind="bar", source="replay", ts=<its open time>)` on `market.bar.<SYMBOL>.<tf>`;
`ReplayStatus(stopped)` after the last bar, on stop, or when reading the bars fails. Stored bars
are never written.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from typing import Literal

from quantdesk.db import Database
from quantdesk.infra.events import EventBus, MarketEvent, MarketProgress, ReplayStatus
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.replay.hooks import run_replay_hooks
from quantdesk.marketdata.repository import BarRepository
from quantdesk.observability.logging import get_logger

CHUNK_BARS = 1_000
PROGRESS_TIMEOUT_SECONDS = 10.0

RunState = Literal["running", "paused", "finished", "stopped"]

log = get_logger("quantdesk.replay")


@dataclass(frozen=True)
class ReplayRequest:
    symbol: str
    timeframe: Timeframe
    start: int  # Unix seconds, inclusive
    end: int | None = None  # inclusive; None: up to the last stored bar
    speed: float = 1.0  # bars per second; 0: as fast as the consumers process
    paused: bool = False


@dataclass(frozen=True)
class ReplayedBar:
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class ReplayedQuote:
    """The quote a replay makes of its last bar (what GET /quotes answers meanwhile)."""

    replay_id: str
    symbol: str
    currency: str
    ts: int
    price: float
    previous_close: float | None  # the last close of an earlier UTC day
    day_open: float
    day_high: float
    day_low: float
    volume: float


class Replay:
    def __init__(
        self,
        *,
        replay_id: str,
        request: ReplayRequest,
        instrument_id: int,
        currency: str,
        bars_total: int,
        db: Database,
        events: EventBus,
        progress: MarketProgress,
        progress_timeout: float = PROGRESS_TIMEOUT_SECONDS,
    ) -> None:
        self.replay_id = replay_id
        self.request = request
        self.symbol = request.symbol
        self.instrument_id = instrument_id
        self.currency = currency
        self.bars_total = bars_total
        self.state: RunState = "paused" if request.paused else "running"
        self.position: int | None = None  # market time of the last bar published
        self.bars_emitted = 0
        self.error: str | None = None
        self.quote: ReplayedQuote | None = None
        self._db, self._events, self._progress = db, events, progress
        self._progress_timeout = progress_timeout
        self._next_start = request.start
        self._buffer: deque[ReplayedBar] = deque()
        self._read_all = False
        self._lock = asyncio.Lock()
        self._resumed = asyncio.Event()
        self._due: float | None = None
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._ended = asyncio.Event()
        self._day: int | None = None
        self._close_before_day: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ("running", "paused") and not self._stopping

    def status_payload(self, state: Literal["started", "stopped"]) -> ReplayStatus:
        return ReplayStatus(
            self.symbol, self.replay_id, state, self.request.timeframe.value, self.request.start
        )

    async def begin(self) -> None:
        """Publish `started` and start the publishing loop."""
        self._progress.reset(self.symbol)  # market time starts over
        started = self.status_payload("started")
        await self._events.publish(started.topic, started)
        if self.state == "running":
            self._resumed.set()
        self._task = asyncio.create_task(self._loop(), name=f"replay {self.replay_id}")

    async def wait(self) -> None:
        """Until the replay has finished or stopped."""
        await self._ended.wait()

    # ------------------------------------------------------------------ controls

    async def pause(self) -> None:
        """Pause; returns once a bar already being emitted is out, so the position answered
        after a pause is where the replay stands (no bar follows it)."""
        if self.state == "running":
            self.state = "paused"
            self._resumed.clear()
            async with self._lock:
                pass

    def resume(self) -> None:
        if self.state == "paused" and not self._stopping:
            self.state = "running"
            self._due = None
            self._resumed.set()

    async def step(self, count: int) -> list[ReplayedBar]:
        """Publish the next `count` bars of a paused replay (fewer at its end), each once the
        previous one has been processed; returns after the last one has been."""
        emitted: list[ReplayedBar] = []
        async with self._lock:
            for _ in range(count):
                if self.state != "paused" or self._stopping:
                    break
                bar = await self._emit_next()
                if bar is None:
                    break
                emitted.append(bar)
        return emitted

    async def stop(self) -> None:
        """Stop publishing and publish `stopped` (idempotent)."""
        if not self.active:
            return
        self._stopping = True
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._end("stopped")

    # ------------------------------------------------------------------ the loop

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.active:
                await self._resumed.wait()
                async with self._lock:
                    if self.state != "running" or self._stopping:
                        continue
                    bar = await self._emit_next()
                if bar is None:
                    return
                speed = self.request.speed
                if speed > 0:
                    now = loop.time()
                    # A bar the consumers held up past its slot is not made up for by a burst.
                    self._due = max((self._due or now) + 1 / speed, now)
                    if self._due > now:
                        await asyncio.sleep(self._due - now)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error("replay.failed", replay_id=self.replay_id, error=str(error))
            self.error = str(error)
            await self._end("stopped")

    async def _emit_next(self) -> ReplayedBar | None:
        """Publish the next bar and wait for its processing; None (and the replay finished)
        when there is none left."""
        bar = await self._next_bar()
        if bar is None:
            await self._end("finished")
            return None
        event = MarketEvent(
            "bar",
            self.symbol,
            self.request.timeframe.value,
            bar.ts,
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume,
            "replay",
        )
        self._quote_after(bar)
        self.position = bar.ts
        self.bars_emitted += 1
        await self._events.publish(event.topic, event)
        await run_replay_hooks(self._db, self._events, event)  # e.g. the bar's stored signals
        if not await self._progress.wait_for(self.symbol, bar.ts, self._progress_timeout):
            log.warning(
                "replay.consumer_late",
                replay_id=self.replay_id,
                symbol=self.symbol,
                ts=bar.ts,
                timeout=self._progress_timeout,
            )
        return bar

    async def _next_bar(self) -> ReplayedBar | None:
        if not self._buffer and not self._read_all:
            async with self._db.session() as session:
                frame = await BarRepository(session).read(
                    self.instrument_id,
                    self.request.timeframe,
                    start=self._next_start,
                    end=self.request.end,
                    limit=CHUNK_BARS,
                    newest=False,
                )
            for row in zip(*(column.tolist() for column in frame.columns()), strict=True):
                self._buffer.append(ReplayedBar(int(row[0]), *row[1:]))
            if len(frame) < CHUNK_BARS:
                self._read_all = True
            else:
                self._next_start = int(frame.ts[-1]) + 1
        return self._buffer.popleft() if self._buffer else None

    def _quote_after(self, bar: ReplayedBar) -> None:
        day = bar.ts // 86_400
        last = self.quote
        if last is None or day != self._day:
            if last is not None:
                self._close_before_day = last.price
            self._day = day
            day_open, high, low, volume = bar.open, bar.high, bar.low, bar.volume
        else:
            day_open = last.day_open
            high, low = max(last.day_high, bar.high), min(last.day_low, bar.low)
            volume = last.volume + bar.volume
        self.quote = ReplayedQuote(
            self.replay_id,
            self.symbol,
            self.currency,
            bar.ts,
            bar.close,
            self._close_before_day,
            day_open,
            high,
            low,
            volume,
        )

    async def _end(self, state: RunState) -> None:
        if self.state in ("finished", "stopped"):
            return
        self.state = state
        self.quote = None  # quotes are live again
        self._resumed.set()  # a loop waiting to resume sees the end
        stopped = self.status_payload("stopped")
        try:
            await self._events.publish(stopped.topic, stopped)
        finally:
            self._ended.set()
            log.info(
                "replay.ended",
                replay_id=self.replay_id,
                state=state,
                bars_emitted=self.bars_emitted,
            )
