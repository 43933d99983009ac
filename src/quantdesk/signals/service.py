"""Signal service: generate signals from the latest closed bar, settle them against later
bars, and read them back. The entry point of endpoints, the CLI and the jobs module.
Metrics (observability/metrics.py): refresh serves a request, so unlike generate and evaluate
it runs no count query for `signals_active`."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings, get_settings
from quantdesk.engine.signals import OHLCV, STRATEGIES, SignalResult
from quantdesk.errors import NotFound, Unprocessable, field_error
from quantdesk.infra.events import emit, installed_event_bus
from quantdesk.kit.pagination import decode_cursor, split_page
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import to_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.service import bar_service, instrument_service
from quantdesk.models import Instrument, Signal, SignalStatus, utcnow
from quantdesk.observability.metrics import (
    SIGNAL_GENERATION_DURATION,
    SIGNALS_ACTIVE,
    SIGNALS_GENERATED,
)
from quantdesk.signals.backfill import BackfillResult, backfill_series, closed_bars
from quantdesk.signals.cache import forget_latest_after_commit
from quantdesk.signals.events import NewSignal, SignalClosed
from quantdesk.signals.lifetime import lifetime_bars
from quantdesk.signals.repository import SignalFilter, SignalRepository, SignalStats
from quantdesk.signals.rows import RISK, signal_row
from quantdesk.signals.settlement import bar_close_times, settle

INSTRUMENT_PAGE = 500


class SignalNotFound(NotFound):
    code = "signal-not-found"

    def __init__(self, signal_id: int) -> None:
        super().__init__(f"no signal with id {signal_id}")


@dataclass(frozen=True)
class RefreshResult:
    symbol: str
    timeframe: Timeframe
    source_ts: int | None  # the last closed bar; None when the instrument has none yet
    signals: list[Signal]  # every signal of that bar
    created: int


def _ohlcv(bars: BarFrame) -> OHLCV:
    return OHLCV.of(bars.open, bars.high, bars.low, bars.close, bars.volume)


def _latest_signals(bars: OHLCV, spent: dict[str, float]) -> list[SignalResult]:
    """Every registered strategy's signal of the last bar (CPU work: run in a thread); adds
    each strategy's seconds to `spent`."""
    found: list[SignalResult] = []
    for name, strategy in STRATEGIES.items():
        started = time.perf_counter()
        result = strategy.run(bars, RISK).latest()
        spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
        if result is not None:
            found.append(result)
    return found


def _observe_generation(created: Sequence[Signal], spent: dict[str, float]) -> None:
    for strategy, seconds in spent.items():
        SIGNAL_GENERATION_DURATION.labels(strategy).observe(seconds)
    for signal in created:
        SIGNALS_GENERATED.labels(signal.strategy, signal.direction.value.lower()).inc()


def _cursor_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    key = decode_cursor(cursor)
    if not isinstance(key, int):
        raise Unprocessable(errors=[field_error(["query", "cursor"], "malformed cursor")])
    return key


class SignalService:
    def __init__(self) -> None:
        # Strategies whose active count was published: one that drops out of the counts
        # (a strategy since removed) is set back to 0, not left at its last value.
        self._published: set[str] = set()

    async def get(self, session: AsyncSession, signal_id: int) -> Signal:
        signal = await SignalRepository(session).get(signal_id)
        if signal is None:
            raise SignalNotFound(signal_id)
        return signal

    async def search(
        self,
        session: AsyncSession,
        *,
        filters: SignalFilter,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Signal], str | None]:
        """Newest first; the cursor continues where the previous page ended."""
        rows = await SignalRepository(session).page(
            filters, before_id=_cursor_id(cursor), limit=limit + 1
        )
        return split_page(rows, limit, lambda signal: signal.id)

    async def historic(
        self,
        session: AsyncSession,
        *,
        filters: SignalFilter,
        delay: timedelta,
        now: datetime | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[Signal], str | None]:
        """Like `search`, limited to signals created at least `delay` before `now`."""
        cutoff = (now or utcnow()) - delay
        if filters.created_before is not None:
            cutoff = min(cutoff, filters.created_before)
        delayed = replace(filters, created_before=cutoff)
        return await self.search(session, filters=delayed, cursor=cursor, limit=limit)

    async def stats(self, session: AsyncSession, *, filters: SignalFilter) -> list[SignalStats]:
        """Track record per strategy, symbol and timeframe (aggregated in SQL)."""
        return await SignalRepository(session).stats(filters)

    async def latest(
        self, session: AsyncSession, *, filters: SignalFilter, limit: int = 100
    ) -> Sequence[Signal]:
        """The newest signal of each instrument, timeframe and strategy."""
        return await SignalRepository(session).latest(filters, limit=limit)

    async def generate(
        self,
        session: AsyncSession,
        *,
        symbols: list[str] | None = None,
        timeframe: Timeframe = Timeframe.D1,
        now: datetime | None = None,
        settings: Settings | None = None,
    ) -> list[Signal]:
        """Run every strategy on each instrument's last closed bar and store the signals that
        fire there; return the new ones. Idempotent: a bar's signals are stored once.

        Without `symbols`, every active instrument is covered and one without bars for
        `timeframe` is skipped; a named symbol that is unknown or lacks bars is an error.
        """
        settings = settings or get_settings()
        now = now or utcnow()
        created: list[Signal] = []
        spent: dict[str, float] = {}
        if symbols is None:
            for instrument in await self._active_instruments(session):
                try:
                    new, _ = await self._generate_for(
                        session, instrument, timeframe, now, settings, spent
                    )
                except Unprocessable:  # no bars that build this timeframe
                    continue
                created.extend(new)
        else:
            for symbol in symbols:
                instrument = await instrument_service.get(session, symbol)
                new, _ = await self._generate_for(
                    session, instrument, timeframe, now, settings, spent
                )
                created.extend(new)
        _observe_generation(created, spent)
        if created:
            forget_latest_after_commit(session)
            await emit(session, installed_event_bus(), [NewSignal.of(s) for s in created])
        await self._publish_active(session)
        return created

    async def refresh(
        self,
        session: AsyncSession,
        *,
        symbol: str,
        timeframe: Timeframe = Timeframe.D1,
        now: datetime | None = None,
        settings: Settings | None = None,
    ) -> RefreshResult:
        """Generate for one symbol now; answer every signal of its last closed bar."""
        settings = settings or get_settings()
        instrument = await instrument_service.get(session, symbol)
        spent: dict[str, float] = {}
        new, source_ts = await self._generate_for(
            session, instrument, timeframe, now or utcnow(), settings, spent
        )
        _observe_generation(new, spent)
        if new:
            forget_latest_after_commit(session)
            await emit(session, installed_event_bus(), [NewSignal.of(s) for s in new])
        signals = (
            await SignalRepository(session).for_bar(instrument.id, timeframe.value, source_ts)
            if source_ts is not None
            else []
        )
        return RefreshResult(instrument.symbol, timeframe, source_ts, signals, len(new))

    async def evaluate(
        self,
        session: AsyncSession,
        *,
        now: datetime | None = None,
        settings: Settings | None = None,
    ) -> dict[str, int]:
        """Settle active signals against the closed bars after their source bar, in market
        time: target_hit or stopped (stop first when one bar touches both) within the
        signal's `lifetime_bars` bars, expired at the close of its last bar when neither was
        touched. The clock only says which bars have closed (a forming bar is not used); it
        never expires a signal. Returns how many moved to each status and how many stay
        active."""
        settings = settings or get_settings()
        now_ts = to_epoch(now or utcnow())
        counts = {status.value: 0 for status in SignalStatus}
        closed: list[Signal] = []
        active = await SignalRepository(session).active()
        for (symbol, timeframe_value), group in itertools.groupby(
            active, key=lambda signal: (signal.symbol, signal.timeframe)
        ):
            signals = list(group)
            timeframe = Timeframe(timeframe_value)
            bars = await self._closed_bars_between(
                session,
                symbol,
                timeframe,
                start=min(signal.source_ts for signal in signals) + 1,
                end=now_ts,
                now_ts=now_ts,
                limit=settings.bars_max_limit,
            )
            closes = bar_close_times(bars.ts, timeframe)
            for signal in signals:
                settle(signal, bars, closes)
                counts[signal.status.value] += 1
                if signal.status is not SignalStatus.ACTIVE:
                    closed.append(signal)
        await session.flush()
        await emit(session, installed_event_bus(), [SignalClosed.of(s) for s in closed])
        if any(n for status, n in counts.items() if status != SignalStatus.ACTIVE.value):
            forget_latest_after_commit(session)  # settled signals show a new status
        await self._publish_active(session)
        return counts

    async def backfill(
        self,
        session: AsyncSession,
        *,
        symbols: list[str] | None = None,
        timeframe: Timeframe | None = None,
        now: datetime | None = None,
        settings: Settings | None = None,
    ) -> list[BackfillResult]:
        """Signals over the stored history (signals/backfill.py), each settled by the bars
        after it. `symbols` default to every active instrument, `timeframe` to each one
        stored for the instrument. A named symbol that is unknown, or lacks bars for the
        timeframe asked for, is an error; other instruments without such bars are skipped.
        Idempotent: signals already stored are kept."""
        settings = settings or get_settings()
        now = now or utcnow()
        if symbols is None:
            instruments = await self._active_instruments(session)
        else:
            instruments = [await instrument_service.get(session, symbol) for symbol in symbols]
        results: list[BackfillResult] = []
        for instrument in instruments:
            if timeframe is None:
                coverage = await instrument_service.coverage(session, instrument)
                timeframes = [c.timeframe for c in coverage]
            else:
                timeframes = [timeframe]
            for each in timeframes:
                try:
                    result = await backfill_series(
                        session, instrument, each, now=now, settings=settings
                    )
                except Unprocessable:  # no bars that build this timeframe
                    if symbols is not None:
                        raise
                    continue
                results.append(result)
        if any(result.created for result in results):
            forget_latest_after_commit(session)
            await self._publish_active(session)
        return results

    # ------------------------------------------------------------------ internals

    async def _publish_active(self, session: AsyncSession) -> None:
        """Set `signals_active` per strategy from one grouped count (jobs and CLI only)."""
        counts = await SignalRepository(session).active_counts()
        # Strategies with nothing active read 0 rather than keep their last count.
        for strategy in sorted({*STRATEGIES, *counts, *self._published}):
            SIGNALS_ACTIVE.labels(strategy).set(counts.get(strategy, 0))
        self._published.update(counts)

    async def _closed_bars_between(
        self,
        session: AsyncSession,
        symbol: str,
        timeframe: Timeframe,
        *,
        start: int,
        end: int,
        now_ts: int,
        limit: int,
    ) -> BarFrame:
        empty = BarFrame.from_columns([[], [], [], [], [], []])
        if end < start:
            return empty
        try:
            series = await bar_service.get_bars(
                session,
                symbol=symbol,
                timeframe=timeframe,
                start=start,
                end=end,
                limit=limit,
            )
        except (NotFound, Unprocessable):  # instrument gone, or its bars no longer there
            return empty
        bars = series.bars
        return bars.select(bar_close_times(bars.ts, timeframe) <= now_ts)

    async def _active_instruments(self, session: AsyncSession) -> list[Instrument]:
        found: list[Instrument] = []
        cursor: str | None = None
        while True:
            page, cursor = await instrument_service.search(
                session, cursor=cursor, limit=INSTRUMENT_PAGE
            )
            found.extend(instrument for instrument in page if instrument.active)
            if cursor is None:
                return found

    async def _generate_for(
        self,
        session: AsyncSession,
        instrument: Instrument,
        timeframe: Timeframe,
        now: datetime,
        settings: Settings,
        spent: dict[str, float],
    ) -> tuple[list[Signal], int | None]:
        """(new signals, open time of the last closed bar) for one instrument; each strategy's
        seconds are added to `spent`."""
        # One more than the lookback: the newest bar may still be forming.
        limit = settings.signals_lookback_bars + 1
        bars = await closed_bars(session, instrument, timeframe, now=now, limit=limit)
        if len(bars) == 0:
            return [], None
        source_ts = int(bars.ts[-1])
        results = await asyncio.to_thread(_latest_signals, _ohlcv(bars), spent)
        rows = [
            signal_row(
                instrument_id=instrument.id,
                symbol=instrument.symbol,
                timeframe=timeframe,
                result=result,
                source_ts=source_ts,
                created_at=now,
                lifetime=lifetime_bars(settings, result.strategy, timeframe),
            )
            for result in results
        ]
        return await SignalRepository(session).insert_new(rows), source_ts


signal_service = SignalService()
