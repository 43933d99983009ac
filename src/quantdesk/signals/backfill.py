"""Signals over a stored history, each settled by the bars after it.

Every strategy runs once over the whole series; its value at bar ``t`` uses bars ``0..t``
only (the engine's no-look-ahead contract), so the signal stored for bar ``t`` is the one a
live job would have published at that bar's close (`created_at` is that close). Each
signal is then settled against the bars that followed it, exactly as `evaluate` would:
within its `lifetime_bars` bars, or left active when the series ends first. Rows go in
with one multi-row insert per batch; a signal already stored (same instrument, timeframe,
strategy and bar) is kept, so a backfill can run any number of times.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.engine.signals import OHLCV, STRATEGIES, resolve
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch, to_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.service import bar_service
from quantdesk.models import Instrument
from quantdesk.signals.lifetime import lifetime_bars
from quantdesk.signals.repository import SignalRepository
from quantdesk.signals.rows import RISK, signal_row
from quantdesk.signals.settlement import Settlement, bar_close_times


@dataclass(frozen=True)
class BackfillResult:
    symbol: str
    timeframe: Timeframe
    bars: int  # closed bars the strategies ran over
    signals: int  # signals found over that history
    settled: int  # of those, settled by the bars after them (the rest are still active)
    created: int  # newly stored (the others were stored already)


def history_rows(
    bars: BarFrame, timeframe: Timeframe, instrument: Instrument, settings: Settings
) -> list[dict[str, Any]]:
    """Every strategy's signals over `bars` (closed bars, oldest first), settled by the bars
    after each; oldest source bar first. CPU work: run it in a thread."""
    ohlcv = OHLCV.of(bars.open, bars.high, bars.low, bars.close, bars.volume)
    closes = bar_close_times(bars.ts, timeframe)
    rows: list[dict[str, Any]] = []
    for name, strategy in STRATEGIES.items():
        run = strategy.run(ohlcv, RISK)
        lifetime = lifetime_bars(settings, name, timeframe)
        for bar in run.signal_bars():
            t = int(bar)
            result = run.at(t)
            if result is None:
                continue
            row = signal_row(
                instrument_id=instrument.id,
                symbol=instrument.symbol,
                timeframe=timeframe,
                result=result,
                source_ts=int(bars.ts[t]),
                created_at=from_epoch(int(closes[t])),
                lifetime=lifetime,
            )
            later = slice(t + 1, t + 1 + lifetime)
            resolution = resolve(
                direction=result.direction,
                target=result.target,
                stop=result.stop,
                open=bars.open[later],
                high=bars.high[later],
                low=bars.low[later],
                close=bars.close[later],
                lifetime=lifetime,
            )
            settlement = Settlement.of(
                resolution, direction=result.direction, entry=result.entry, closes=closes[later]
            )
            if settlement is not None:
                row.update(settlement.columns())
            rows.append(row)
    rows.sort(key=lambda row: (row["source_ts"], row["strategy"]))
    return rows


async def closed_bars(
    session: AsyncSession,
    instrument: Instrument,
    timeframe: Timeframe,
    *,
    now: datetime,
    limit: int,
) -> BarFrame:
    """The newest `limit` stored bars of the instrument whose bar has closed by `now` (a bar
    still forming is left out: signals are made on closed bars only)."""
    now_ts = to_epoch(now)
    series = await bar_service.get_bars(
        session, symbol=instrument.symbol, timeframe=timeframe, start=None, end=now_ts, limit=limit
    )
    return series.bars.select(bar_close_times(series.bars.ts, timeframe) <= now_ts)


async def backfill_series(
    session: AsyncSession,
    instrument: Instrument,
    timeframe: Timeframe,
    *,
    now: datetime,
    settings: Settings,
) -> BackfillResult:
    """Signals over the stored history of one instrument and timeframe (its newest
    `bars_max_limit` bars); a bar still forming at `now` is left out."""
    bars = await closed_bars(session, instrument, timeframe, now=now, limit=settings.bars_max_limit)
    rows = await asyncio.to_thread(history_rows, bars, timeframe, instrument, settings)
    created = await SignalRepository(session).insert_many(rows)
    settled = sum(1 for row in rows if row["closed_at"] is not None)
    return BackfillResult(instrument.symbol, timeframe, len(bars), len(rows), settled, created)
