"""The signal service on both databases: generation from the last closed bar (idempotent),
refresh, and evaluation of active signals against later bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.signals import OHLCV, STRATEGIES, SignalResult
from quantdesk.errors import Unprocessable
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.service import InstrumentNotFound
from quantdesk.models import Signal, SignalDirection, SignalStatus
from quantdesk.signals.service import signal_service
from tests.factories import create_instrument, load_bars
from tests.signals.factories import (
    WINDOW_END,
    WINDOW_START,
    after_close,
    create_signal,
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


# ---------------------------------------------------------------- evaluation

SOURCE = 1_704_067_200  # 2024-01-01: the signal bar
EXPIRES = SOURCE + DAY + 3 * DAY  # three bars after the signal bar count
LATE = datetime.fromtimestamp(EXPIRES + 5 * DAY, UTC)
# The signal bar itself spans both levels: it must never be counted.
SIGNAL_BAR = (100.0, 120.0, 80.0, 100.0)

Candle = tuple[float, float, float, float]
L, S = SignalDirection.LONG, SignalDirection.SHORT
EVALUATION = {
    "target hit": (L, [(100, 102, 99, 101), (101, 107, 100, 106)], LATE, "target_hit", 1, 106.0),
    "stopped": (L, [(100, 101, 96, 97)], LATE, "stopped", 0, 97.0),
    "both in one bar: stopped": (L, [(100, 107, 96, 104)], LATE, "stopped", 0, 97.0),
    "expired": (L, [(100, 101, 99, 100.5)] * 4, LATE, "expired", None, 100.5),
    "short target hit": (S, [(100, 101, 93, 94)], LATE, "target_hit", 0, 94.0),
    "short stopped": (S, [(100, 101, 99, 100), (100, 104, 99, 103)], LATE, "stopped", 1, 103.0),
    "forming bar ignored": (
        L,
        [(100, 101, 99, 100), (100, 110, 99, 109)],
        datetime.fromtimestamp(SOURCE + 2 * DAY + 3_600, UTC),
        "active",
        None,
        None,
    ),
}


def candles_frame(candles: list[Candle]) -> BarFrame:
    rows = [SIGNAL_BAR, *candles]
    o, h, lo, c = (np.array(column, dtype=np.float64) for column in zip(*rows, strict=True))
    ts = SOURCE + DAY * np.arange(len(rows), dtype=np.int64)
    return BarFrame(ts, o, h, lo, c, np.full(len(rows), 1_000.0))


@pytest.mark.parametrize(
    ("direction", "candles", "now", "status", "bar", "price"),
    EVALUATION.values(),
    ids=EVALUATION.keys(),
)
async def test_evaluation_candle_table(
    db: Database,
    direction: SignalDirection,
    candles: list[Candle],
    now: datetime,
    status: str,
    bar: int | None,
    price: float | None,
) -> None:
    await create_instrument(db, "TEST")
    await load_bars(db, "TEST", candles_frame(candles))
    target, stop = (106.0, 97.0) if direction is L else (94.0, 103.0)
    signal = await create_signal(
        db,
        direction=direction,
        target=target,
        stop=stop,
        source_ts=SOURCE,
        expires_at=from_epoch(EXPIRES),
    )
    async with db.session() as session:
        counts = await signal_service.evaluate(session, now=now)
    assert counts[status] == 1 and sum(counts.values()) == 1
    async with db.session() as session:
        stored = await session.get(Signal, signal.id)
    assert stored is not None
    assert stored.status.value == status
    assert stored.close_price == price
    if status == "active":
        assert stored.closed_at is None
    elif bar is None:
        assert stored.closed_at == from_epoch(EXPIRES)
    else:  # the close of the bar that settled it (bar 0 is the first after the signal bar)
        assert stored.closed_at == from_epoch(SOURCE + (bar + 2) * DAY)


def reference_outcome(signal: Signal, later: BarFrame) -> str:
    """An independent, bar-by-bar reading of the documented rules."""
    long = signal.direction is SignalDirection.LONG
    for low, high in zip(later.low, later.high, strict=True):
        if (low <= signal.stop) if long else (high >= signal.stop):
            return "stopped"
        if (high >= signal.target) if long else (low <= signal.target):
            return "target_hit"
    return "expired"


async def test_generated_goog_signals_settle_on_the_following_bars(db: Database) -> None:
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", goog_window())
    async with db.session() as session:
        created = await signal_service.generate(session, now=after_close(goog_window()))
    following = goog_window(WINDOW_END, WINDOW_END + 30)
    await load_bars(db, "GOOG", following)
    async with db.session() as session:
        counts = await signal_service.evaluate(session, now=after_close(following))
    assert counts["active"] == 0 and sum(counts.values()) == len(created) >= 2
    async with db.session() as session:
        for signal in created:
            stored = await session.get(Signal, signal.id)
            assert stored is not None
            later = following.select(following.ts < int(stored.expires_at.timestamp()))
            assert stored.status.value == reference_outcome(stored, later), stored.strategy
