"""The signal service on both databases: generation from the last closed bar (idempotent)
and refresh (evaluation: test_evaluate.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.signals import OHLCV, STRATEGIES, SignalResult
from quantdesk.errors import Unprocessable
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.service import InstrumentNotFound
from quantdesk.models import Signal, SignalStatus
from quantdesk.signals.service import signal_service
from tests.support.factories import create_instrument, load_bars
from tests.support.signals import (
    WINDOW_END,
    WINDOW_START,
    after_close,
    goog_window,
)

DAY = 86_400


def engine_signals(frame: BarFrame) -> dict[str, SignalResult]:
    bars = OHLCV.of(frame.open, frame.high, frame.low, frame.close, frame.volume)
    found = {name: strategy.run(bars).latest() for name, strategy in STRATEGIES.items()}
    return {name: result for name, result in found.items() if result is not None}


async def count_signals(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Signal))).scalar_one())


async def test_generate_stores_the_last_closed_bars_signals_once(
    db: Database, settings: Settings
) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    expected = engine_signals(window)
    assert len(expected) >= 2  # the window was chosen to end on a busy bar
    now = after_close(window)

    async with db.session() as session:
        created = await signal_service.generate(session, now=now, settings=settings)
    assert sorted(s.strategy for s in created) == sorted(expected)
    last = int(window.ts[-1])
    for signal in created:
        result = expected[signal.strategy]
        assert signal.symbol == "GOOG" and signal.timeframe == "1d"
        assert signal.source_ts == last
        assert signal.status is SignalStatus.ACTIVE
        assert signal.direction.value == result.direction.name
        assert signal.entry == float(window.close[-1]) == result.entry
        assert (signal.target, signal.stop, signal.confidence) == (
            result.target,
            result.stop,
            result.confidence,
        )
        assert [c["text"] for c in signal.rationale] == [c.text for c in result.rationale]
        assert signal.created_at == now
        assert signal.expires_at == from_epoch(last + DAY + settings.signals_expiry_bars * DAY)
        assert signal.params["strategy"] == STRATEGIES[signal.strategy].params()

    async with db.session() as session:
        again = await signal_service.generate(session, now=now + timedelta(hours=1))
    assert again == []
    assert await count_signals(db) == len(expected)


async def test_a_bar_still_forming_is_not_a_source(db: Database, settings: Settings) -> None:
    window = goog_window(WINDOW_START, WINDOW_END + 1)
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    forming = datetime.fromtimestamp(int(window.ts[-1]) + 3_600, UTC)
    async with db.session() as session:
        result = await signal_service.refresh(
            session, symbol="goog", now=forming, settings=settings
        )
    assert result.source_ts == int(window.ts[-2])
    assert sorted(s.strategy for s in result.signals) == sorted(
        engine_signals(window.slice(0, 400))
    )
    assert result.created == len(result.signals) >= 2


async def test_generate_covers_active_instruments_with_bars(
    db: Database, settings: Settings
) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await create_instrument(db, "IDLE")
    await create_instrument(db, "EMPTY")
    await load_bars(db, "GOOG", window)
    await load_bars(db, "IDLE", window)
    await create_instrument(db, "IDLE", active=False)
    now = after_close(window)
    async with db.session() as session:
        created = await signal_service.generate(session, now=now, settings=settings)
    assert {s.symbol for s in created} == {"GOOG"}

    async with db.session() as session:
        named = await signal_service.generate(session, symbols=["IDLE"], now=now)
    assert {s.symbol for s in named} == {"IDLE"}  # asked for by name: generated
    async with db.session() as session:
        with pytest.raises(Unprocessable, match="no bars"):
            await signal_service.generate(session, symbols=["EMPTY"], now=now)
        with pytest.raises(InstrumentNotFound):
            await signal_service.generate(session, symbols=["NOPE"], now=now)


async def test_refresh_answers_the_bars_signals_and_counts_new_ones(
    db: Database, settings: Settings
) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    now = after_close(window)
    async with db.session() as session:
        first = await signal_service.refresh(session, symbol="GOOG", now=now, settings=settings)
    async with db.session() as session:
        second = await signal_service.refresh(session, symbol="GOOG", now=now, settings=settings)
    assert first.created == len(first.signals) >= 2
    assert second.created == 0
    assert [s.id for s in second.signals] == [s.id for s in first.signals]
