"""Signal metrics: new signals counted by strategy and direction, each strategy timed per run,
and the active gauge set from the database after generate and evaluate (the registry is
process-global: counters compare before/after; the gauge is compared with the table)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.signals import STRATEGIES
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import Signal, SignalDirection, SignalStatus
from quantdesk.signals.service import signal_service
from tests.support.factories import create_instrument, load_bars
from tests.support.signals import after_close, create_signal, goog_window

DAY = 86_400
DIRECTIONS = ("long", "short")


def generated() -> Counter[tuple[str, str]]:
    return Counter(
        {
            (strategy, direction): REGISTRY.get_sample_value(
                "signals_generated_total", {"strategy": strategy, "direction": direction}
            )
            or 0.0
            for strategy in STRATEGIES
            for direction in DIRECTIONS
        }
    )


def runs_timed() -> dict[str, float]:
    return {
        strategy: REGISTRY.get_sample_value(
            "signal_generation_duration_seconds_count", {"strategy": strategy}
        )
        or 0.0
        for strategy in STRATEGIES
    }


def active_gauge() -> dict[str, float | None]:
    return {
        strategy: REGISTRY.get_sample_value("signals_active", {"strategy": strategy})
        for strategy in STRATEGIES
    }


async def active_in_table(db: Database) -> dict[str, float | None]:
    async with db.session() as session:
        rows = await session.execute(
            select(Signal.strategy, func.count())
            .where(Signal.status == SignalStatus.ACTIVE)
            .group_by(Signal.strategy)
        )
        counts = {str(strategy): float(count) for strategy, count in rows}
    return {strategy: counts.get(strategy, 0.0) for strategy in STRATEGIES}


def added(before: Counter[tuple[str, str]]) -> Counter[tuple[str, str]]:
    after = generated()
    after.subtract(before)
    return +after  # only what grew


async def test_generate_counts_new_signals_times_each_strategy_and_sets_the_active_gauge(
    db: Database, settings: Settings
) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    before, timed_before = generated(), runs_timed()
    async with db.session() as session:
        created = await signal_service.generate(session, now=after_close(window), settings=settings)
    assert len(created) >= 2
    assert added(before) == Counter((s.strategy, s.direction.value.lower()) for s in created)
    timed = runs_timed()
    assert {name: timed[name] - timed_before[name] for name in STRATEGIES} == dict.fromkeys(
        STRATEGIES, 1
    )
    table = await active_in_table(db)
    assert active_gauge() == table
    assert sum(count or 0 for count in table.values()) == len(created)

    before = generated()
    async with db.session() as session:  # the same bar again: nothing new, nothing counted
        assert await signal_service.generate(session, now=after_close(window)) == []
    assert added(before) == Counter()


async def test_refresh_counts_the_signals_it_creates(db: Database, settings: Settings) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    before = generated()
    async with db.session() as session:
        result = await signal_service.refresh(
            session, symbol="GOOG", now=after_close(window), settings=settings
        )
    assert result.created >= 2
    assert added(before) == Counter((s.strategy, s.direction.value.lower()) for s in result.signals)


async def test_evaluate_sets_the_active_gauge_to_what_stays_active(db: Database) -> None:
    source = 1_704_067_200
    # The signal bar, then one bar that stops a long signal with its stop at 97.
    await create_instrument(db, "TEST")
    await load_bars(
        db,
        "TEST",
        BarFrame(
            np.array([source, source + DAY], dtype=np.int64),
            np.array([100.0, 100.0]),
            np.array([101.0, 101.0]),
            np.array([99.0, 96.0]),
            np.array([100.0, 97.0]),
            np.array([1_000.0, 1_000.0]),
        ),
    )
    far = from_epoch(source + 30 * DAY)
    for strategy, stop in (("rsi_reversal", 97.0), ("macd_cross", 50.0), ("sma_cross", 50.0)):
        await create_signal(
            db,
            strategy=strategy,
            direction=SignalDirection.LONG,
            stop=stop,
            source_ts=source,
            expires_at=far,
        )
    async with db.session() as session:
        counts = await signal_service.evaluate(
            session, now=datetime.fromtimestamp(source + 3 * DAY, UTC)
        )
    assert (counts["stopped"], counts["active"]) == (1, 2)
    expected = {**dict.fromkeys(STRATEGIES, 0.0), "macd_cross": 1.0, "sma_cross": 1.0}
    assert active_gauge() == expected == await active_in_table(db)
