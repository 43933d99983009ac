"""Backfilling signals over the demo history: every strategy over the whole series without
look-ahead, each signal settled by the bars after it, idempotent."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.signals import OHLCV, STRATEGIES
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.demo import DEMO_SERIES, load_demo
from quantdesk.models import Signal, SignalStatus
from quantdesk.signals.demo import backfill_demo_signals
from tests.support.signals import goog

DAY = 86_400


async def stored_signals(db: Database) -> list[Signal]:
    async with db.session() as session:
        rows = await session.execute(select(Signal).order_by(Signal.id))
        return list(rows.scalars())


async def test_demo_backfill_settles_history_once(db: Database, settings: Settings) -> None:
    async with db.session() as session:
        await load_demo(session)
    async with db.session() as session:
        first = await backfill_demo_signals(session)
    assert [(r.symbol, r.timeframe) for r in first] == [
        (s.instrument.symbol, s.timeframe) for s in DEMO_SERIES
    ]
    for result in first:
        assert result.signals > 0 and result.settled > 0, result
        assert result.created == result.signals
    signals = await stored_signals(db)
    assert len(signals) == sum(r.signals for r in first)

    # Idempotent: a second run (the second `demo load`) stores nothing new.
    async with db.session() as session:
        second = await backfill_demo_signals(session)
    assert [r.created for r in second] == [0] * len(DEMO_SERIES)
    assert [r.signals for r in second] == [r.signals for r in first]
    async with db.session() as session:
        count = (await session.execute(select(func.count()).select_from(Signal))).scalar_one()
    assert count == len(signals)

    lifetime = settings.signals_expiry_bars
    for signal in signals:
        assert signal.lifetime_bars == lifetime
        # Known at the close of its bar: the bar's close time, never the wall clock.
        assert signal.created_at.timestamp() > signal.source_ts
        if signal.status is SignalStatus.ACTIVE:
            assert signal.close_price is None and signal.closed_at is None
            continue
        assert signal.close_price is not None and signal.closed_at is not None
        assert signal.bars_held is not None and 1 <= signal.bars_held <= lifetime
        if signal.status is SignalStatus.EXPIRED:
            assert signal.bars_held == lifetime


async def test_backfilled_goog_signals_match_the_series_cut_at_their_bar(
    db: Database, settings: Settings
) -> None:
    """No look-ahead: each backfilled GOOG signal is what the strategy says when it sees
    only the bars up to its source bar; its settlement is what the next bars say."""
    async with db.session() as session:
        await load_demo(session)
    async with db.session() as session:
        await backfill_demo_signals(session)
    full = goog()
    bars = OHLCV.of(full.open, full.high, full.low, full.close, full.volume)
    index = {int(ts): i for i, ts in enumerate(full.ts)}
    signals = [s for s in await stored_signals(db) if s.symbol == "GOOG"]
    rng = np.random.default_rng(4)
    for signal in rng.choice(np.array(signals, dtype=object), 25, replace=False):
        t = index[signal.source_ts]
        seen = STRATEGIES[signal.strategy].run(bars.head(t + 1)).latest()
        assert seen is not None, (signal.strategy, t)
        assert (seen.direction.name, seen.entry, seen.target, seen.stop, seen.confidence) == (
            signal.direction.value,
            signal.entry,
            signal.target,
            signal.stop,
            signal.confidence,
        )
        assert signal.created_at == from_epoch(signal.source_ts + DAY)
        if signal.status is SignalStatus.EXPIRED:
            assert signal.bars_held is not None
            settle = t + signal.bars_held
            assert signal.close_price == pytest.approx(float(full.close[settle]))
            assert signal.closed_at == from_epoch(int(full.ts[settle]) + DAY)
