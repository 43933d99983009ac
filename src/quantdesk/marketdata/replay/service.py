"""The replay of a process: at most one at a time (`ReplayManager`, on `AppState.replay`).

The manager checks a request (the instrument exists, bars are stored in the range), starts the
`Replay` (run.py), forwards the controls to it and keeps the last one for the status after it
has ended. While a replay runs, `quote(symbol)` answers its last bar as the symbol's quote
(GET /quotes serves it with `meta.replay`); it is None again once the replay has ended.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import Conflict, Unprocessable, field_error
from quantdesk.infra.events import EventBus, MarketProgress
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch, iso_z
from quantdesk.marketdata.quotes import QuoteDocument
from quantdesk.marketdata.replay.repository import count_bars
from quantdesk.marketdata.replay.run import (
    PROGRESS_TIMEOUT_SECONDS,
    Replay,
    ReplayedBar,
    ReplayedQuote,
    ReplayRequest,
)
from quantdesk.marketdata.service import instrument_service

ViewState = Literal["idle", "running", "paused", "finished", "stopped"]
START_HINT = (
    'no replay has run in this process: POST /api/v1/admin/replay {"symbol": "GOOG", '
    '"timeframe": "1d", "start": "2012-01-01", "speed": 10} starts one '
    "(or `quantdesk replay GOOG --timeframe 1d --start 2012-01-01`)"
)


class ReplayConflict(Conflict):
    code = "replay-conflict"


@dataclass(frozen=True)
class ReplayView:
    """A replay's status (`state` idle: none has run in this process)."""

    state: ViewState
    replay_id: str | None = None
    symbol: str | None = None
    timeframe: Timeframe | None = None
    start: int | None = None
    end: int | None = None  # the requested end; None: up to the last stored bar
    speed: float | None = None
    paused: bool = False
    position: int | None = None  # market time of the last bar published
    bars_emitted: int = 0
    bars_total: int = 0
    error: str | None = None
    hint: str | None = None


def view_of(replay: Replay | None) -> ReplayView:
    if replay is None:
        return ReplayView(state="idle", hint=START_HINT)
    request = replay.request
    return ReplayView(
        state=replay.state,
        replay_id=replay.replay_id,
        symbol=replay.symbol,
        timeframe=request.timeframe,
        start=request.start,
        end=request.end,
        speed=request.speed,
        paused=replay.state == "paused",
        position=replay.position,
        bars_emitted=replay.bars_emitted,
        bars_total=replay.bars_total,
        error=replay.error,
    )


class ReplayManager:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        events: EventBus,
        progress: MarketProgress,
        *,
        progress_timeout: float = PROGRESS_TIMEOUT_SECONDS,
    ) -> None:
        self.settings = settings
        self.db, self.events, self.progress = db, events, progress
        self.progress_timeout = progress_timeout
        self.current: Replay | None = None  # the running replay, or the last one

    @property
    def active(self) -> Replay | None:
        replay = self.current
        return replay if replay is not None and replay.active else None

    def status(self) -> ReplayView:
        return view_of(self.current)

    async def start(self, request: ReplayRequest) -> ReplayView:
        """Start a replay: 409 while one runs, 404 for an unknown symbol, 422 (naming the
        field) when no bar of that timeframe is stored in [start, end]."""
        running = self.active
        if running is not None:
            raise ReplayConflict(
                f"a replay of {running.symbol} is running ({running.replay_id}): "
                "DELETE /api/v1/admin/replay stops it"
            )
        if request.end is not None and request.end < request.start:
            raise Unprocessable(
                "end is before start", errors=[field_error(["body", "end"], "is before start")]
            )
        async with self.db.session() as session:
            instrument = await instrument_service.get(session, request.symbol)
            total, _ = await count_bars(
                session, instrument.id, request.timeframe, request.start, request.end
            )
            if total == 0:
                anywhere, _ = await count_bars(session, instrument.id, request.timeframe, 0, None)
        if total == 0:
            if anywhere == 0:
                message = f"no {request.timeframe.value} bars are stored for {instrument.symbol}"
                raise Unprocessable(message, errors=[field_error(["body", "timeframe"], message)])
            until = iso_z(from_epoch(request.end)) if request.end is not None else "the end"
            message = (
                f"no {request.timeframe.value} bars of {instrument.symbol} between "
                f"{iso_z(from_epoch(request.start))} and {until}"
            )
            raise Unprocessable(message, errors=[field_error(["body", "start"], message)])
        replay = Replay(
            replay_id=uuid.uuid4().hex,
            request=ReplayRequest(
                instrument.symbol,
                request.timeframe,
                request.start,
                request.end,
                request.speed,
                request.paused,
            ),
            instrument_id=instrument.id,
            currency=instrument.currency,
            bars_total=total,
            db=self.db,
            events=self.events,
            progress=self.progress,
            progress_timeout=self.progress_timeout,
        )
        self.current = replay
        await replay.begin()
        return view_of(replay)

    def _running(self) -> Replay:
        replay = self.active
        if replay is None:
            raise ReplayConflict("no replay is running: POST /api/v1/admin/replay starts one")
        return replay

    async def step(self, count: int) -> tuple[list[ReplayedBar], ReplayView]:
        replay = self._running()
        if replay.state != "paused":
            raise ReplayConflict("the replay is running: POST /api/v1/admin/replay/pause first")
        bars = await replay.step(count)
        return bars, view_of(replay)

    async def pause(self) -> ReplayView:
        replay = self._running()
        await replay.pause()
        return view_of(replay)

    def resume(self) -> ReplayView:
        replay = self._running()
        replay.resume()
        return view_of(replay)

    async def stop(self) -> ReplayView:
        replay = self._running()
        await replay.stop()
        return view_of(replay)

    def quote(self, symbol: str) -> ReplayedQuote | None:
        """The replayed quote of `symbol` while a replay of it runs, else None (cheap: the
        quote endpoint asks on every request)."""
        replay = self.current
        if replay is None or replay.quote is None or replay.symbol != symbol.upper():
            return None
        return replay.quote

    async def aclose(self) -> None:
        """Stop a running replay (app shutdown)."""
        replay = self.active
        if replay is not None:
            await replay.stop()


def replayed_quote_answer(quote: ReplayedQuote) -> dict[str, object]:
    """GET /quotes' answer for a replayed quote: the last replayed bar's close, `meta.replay`
    naming the replay and the bar's time; never stale (its clock is the replay's)."""
    change = quote.price - quote.previous_close if quote.previous_close is not None else None
    as_of = iso_z(from_epoch(quote.ts))
    data: QuoteDocument = {
        "symbol": quote.symbol,
        "price": quote.price,
        "previous_close": quote.previous_close,
        "change": change,
        "change_pct": change / quote.previous_close * 100.0
        if change is not None and quote.previous_close
        else None,
        "day_open": quote.day_open,
        "day_high": quote.day_high,
        "day_low": quote.day_low,
        "volume": quote.volume,
        "currency": quote.currency,
        "as_of": as_of,
        "source": "replay",
    }
    meta = {
        "provider": "replay",
        "fallback_trace": [],
        "as_of": as_of,
        "stale": False,
        "age_seconds": 0,
        "cache": "miss",
        "replay": {"replay_id": quote.replay_id, "ts": as_of},
    }
    return {"data": data, "meta": meta}
