"""Evaluation of active signals against later bars, in market time: a signal lives
`lifetime_bars` bars and expires at the close of the last one, whatever the wall clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from quantdesk import migrate
from quantdesk.config import Settings
from quantdesk.db import Database, create_engine
from quantdesk.engine.signals import settled_return
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import Signal, SignalDirection, SignalStatus
from quantdesk.signals.service import signal_service
from quantdesk.signals.settlement import to_direction
from tests.support.factories import create_instrument, load_bars
from tests.support.settings import sqlite_url
from tests.support.signals import WINDOW_END, after_close, create_signal, goog_window

DAY = 86_400
SOURCE = 1_704_067_200  # 2024-01-01: the signal bar
LIFETIME = 3  # three bars after the signal bar count
LATE = datetime.fromtimestamp(SOURCE + 40 * DAY, UTC)
YEARS_LATER = datetime(2031, 1, 1, tzinfo=UTC)
# The signal bar itself spans both levels: it must never be counted.
SIGNAL_BAR = (100.0, 120.0, 80.0, 100.0)
QUIET = (100.0, 101.0, 99.0, 100.5)

Candle = tuple[float, float, float, float]
L, S = SignalDirection.LONG, SignalDirection.SHORT
EVALUATION = {
    "target hit": (L, [(100, 102, 99, 101), (101, 107, 100, 106)], LATE, "target_hit", 1, 106.0),
    "stopped": (L, [(100, 101, 96, 97)], LATE, "stopped", 0, 97.0),
    "both in one bar: stopped": (L, [(100, 107, 96, 104)], LATE, "stopped", 0, 97.0),
    "expired at the close of its last bar": (
        L,
        [QUIET, QUIET, (100, 101, 99, 100.25), QUIET],
        LATE,
        "expired",
        2,
        100.25,
    ),
    "short target hit": (S, [(100, 101, 93, 94)], LATE, "target_hit", 0, 94.0),
    "short stopped": (S, [(100, 101, 99, 100), (100, 104, 99, 103)], LATE, "stopped", 1, 103.0),
    "bars not advanced: active years later": (L, [QUIET, QUIET], YEARS_LATER, "active", None, None),
    "no later bar: active years later": (L, [], YEARS_LATER, "active", None, None),
    "forming bar ignored": (
        L,
        [QUIET, (100, 110, 99, 109), QUIET],
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
        lifetime_bars=LIFETIME,
        # A nominal expiry long past must not expire it: only bars do.
        expires_at=from_epoch(SOURCE + DAY + LIFETIME * DAY),
    )
    async with db.session() as session:
        counts = await signal_service.evaluate(session, now=now)
    assert counts[status] == 1 and sum(counts.values()) == 1
    async with db.session() as session:
        stored = await session.get(Signal, signal.id)
    assert stored is not None
    assert stored.status.value == status
    assert stored.close_price == price
    if bar is None:
        assert (stored.closed_at, stored.bars_held, stored.settled_return) == (None, None, None)
    else:  # the close of the bar that settled it (bar 0 is the first after the signal bar)
        assert price is not None
        assert stored.closed_at == from_epoch(SOURCE + (bar + 2) * DAY)
        assert stored.bars_held == bar + 1
        assert stored.settled_return == pytest.approx(
            settled_return(to_direction(direction), 100.0, price)
        )


def reference_outcome(signal: Signal, later: BarFrame) -> tuple[str, float]:
    """An independent, bar-by-bar reading of the documented rules (no gap in this data)."""
    long = signal.direction is SignalDirection.LONG
    for low, high in zip(later.low, later.high, strict=True):
        if (low <= signal.stop) if long else (high >= signal.stop):
            return "stopped", signal.stop
        if (high >= signal.target) if long else (low <= signal.target):
            return "target_hit", signal.target
    return "expired", float(later.close[-1])


async def test_signals_generated_on_old_bars_stay_active_until_the_bars_advance(
    db: Database, settings: Settings
) -> None:
    """GOOG signals from 2006 bars: evaluating them on today's clock expires none of them
    (their symbol's bars have not advanced); once the following bars arrive, each settles
    on them, with a close price."""
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    async with db.session() as session:
        created = await signal_service.generate(session, now=after_close(window), settings=settings)
    assert len(created) >= 2
    async with db.session() as session:
        counts = await signal_service.evaluate(session)  # the wall clock: years later
    assert counts["active"] == len(created) and counts["expired"] == 0

    lifetime = settings.signals_expiry_bars
    following = goog_window(WINDOW_END, WINDOW_END + lifetime)
    await load_bars(db, "GOOG", following)
    async with db.session() as session:
        counts = await signal_service.evaluate(session)
    assert counts["active"] == 0 and sum(counts.values()) == len(created)
    async with db.session() as session:
        for signal in created:
            stored = await session.get(Signal, signal.id)
            assert stored is not None
            assert stored.lifetime_bars == lifetime
            status, price = reference_outcome(stored, following)
            assert stored.status.value == status, stored.strategy
            assert stored.close_price == pytest.approx(price)
            assert stored.bars_held is not None and 1 <= stored.bars_held <= lifetime
            if stored.status is SignalStatus.EXPIRED:
                assert stored.bars_held == lifetime
                assert stored.closed_at == from_epoch(int(following.ts[-1]) + DAY)


def test_migration_reopens_signals_expired_by_the_clock_without_a_price(tmp_path: Path) -> None:
    """Before market time, `evaluate` expired old signals with close_price null: the
    migration makes them active again; settled ones get their return."""
    url = sqlite_url(tmp_path / "old.db")
    migrate.upgrade(url, "72e95cdbae79")  # the revision before lifetime_bars

    async def seed_then_read() -> list[tuple[Any, ...]]:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO instruments (id, symbol, name, exchange, asset_class, "
                        "currency, active, created_at, updated_at) VALUES (1, 'GOOG', 'G', "
                        "'NASDAQ', 'equity', 'USD', 1, '2026-01-01', '2026-01-01')"
                    )
                )
                for index, (direction, status, price) in enumerate(
                    [
                        ("LONG", "expired", None),
                        ("SHORT", "target_hit", 90.0),
                        ("LONG", "active", None),
                    ]
                ):
                    await connection.execute(
                        text(
                            "INSERT INTO signals (instrument_id, symbol, timeframe, strategy, "
                            "params, direction, entry, target, stop, confidence, rationale, "
                            "status, source_ts, created_at, expires_at, closed_at, close_price) "
                            "VALUES (1, 'GOOG', '1d', 'sma_cross', '{}', :direction, 100, 110, "
                            "95, 50, '[]', :status, :ts, '2026-01-01', '2013-03-15', "
                            ":closed, :price)"
                        ),
                        {
                            "direction": direction,
                            "status": status,
                            "ts": 1_362_096_000 + index,
                            "closed": None if status == "active" else "2026-01-01",
                            "price": price,
                        },
                    )
            await asyncio.to_thread(migrate.upgrade, url)
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT status, closed_at, lifetime_bars, settled_return FROM signals "
                        "ORDER BY source_ts"
                    )
                )
                return [tuple(row) for row in rows]
        finally:
            await engine.dispose()

    rows = asyncio.run(seed_then_read())
    assert [(status, closed, lifetime) for status, closed, lifetime, _ in rows] == [
        ("active", None, 10),
        ("target_hit", rows[1][1], 10),
        ("active", None, 10),
    ]
    assert rows[1][1] is not None and rows[1][3] == pytest.approx(0.1)  # short 100 -> 90
    assert rows[0][3] is None and rows[2][3] is None
