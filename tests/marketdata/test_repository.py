"""The bar repository's driver-level paths give the same answers as the plain ones."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.repository import BarRepository, _sqlite_frame
from tests.support.factories import create_instrument, load_bars, synthetic_bars

SQL = (
    "SELECT ts, open, high, low, close, volume FROM bars "
    "WHERE instrument_id = ? AND timeframe = ? ORDER BY ts DESC LIMIT ?"
)


class PublicApiOnly:
    """An aiosqlite connection seen through its public API only."""

    def __init__(self, driver: Any) -> None:
        self._driver = driver

    async def execute(self, sql: str, params: list[Any]) -> Any:
        return await self._driver.execute(sql, params)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_thread_transpose_matches_public_fallback(db: Database) -> None:
    instrument = await create_instrument(db, "TEST")
    frame = synthetic_bars(10_000, step=60)
    await load_bars(db, "TEST", frame, Timeframe.M1)
    async with db.session() as session:
        driver = await BarRepository(session).driver_connection()
        assert hasattr(driver, "_execute"), "aiosqlite changed: the fast read path is not used"
        params = [instrument.id, "1m", 9_000]
        fast = await _sqlite_frame(driver, SQL, params, newest=True)
        slow = await _sqlite_frame(PublicApiOnly(driver), SQL, params, newest=True)
    for ours, public, expected in zip(
        fast.columns(), slow.columns(), frame.slice(1_000, 10_000).columns(), strict=True
    ):
        np.testing.assert_array_equal(ours, public)
        np.testing.assert_array_equal(ours, expected)  # exact: float64 round trip, ints included
    assert fast.ts.dtype == np.int64


async def test_read_newest_and_oldest_windows(db: Database) -> None:
    instrument = await create_instrument(db, "TEST")
    frame = synthetic_bars(500, step=3_600)
    await load_bars(db, "TEST", frame, Timeframe.H1)
    async with db.session() as session:
        bars = BarRepository(session)
        newest = await bars.read(
            instrument.id, Timeframe.H1, start=None, end=None, limit=100, newest=True
        )
        oldest = await bars.read(
            instrument.id, Timeframe.H1, start=None, end=None, limit=100, newest=False
        )
        empty = await bars.read(
            instrument.id, Timeframe.M1, start=None, end=None, limit=100, newest=True
        )
    np.testing.assert_array_equal(newest.ts, frame.ts[-100:])
    np.testing.assert_array_equal(newest.close, frame.close[-100:])
    np.testing.assert_array_equal(oldest.volume, frame.volume[:100])
    assert len(empty) == 0


async def test_timeframes_and_last_ts(db: Database) -> None:
    instrument = await create_instrument(db, "TEST")
    await load_bars(db, "TEST", synthetic_bars(10), Timeframe.D1)
    await load_bars(db, "TEST", synthetic_bars(48, step=3_600), Timeframe.H1)
    async with db.session() as session:
        bars = BarRepository(session)
        assert await bars.timeframes(instrument.id) == [Timeframe.H1, Timeframe.D1]
        assert (
            await bars.last_ts(instrument.id, Timeframe.H1) == synthetic_bars(48, step=3_600).ts[-1]
        )
        assert await bars.last_ts(instrument.id, Timeframe.M1) is None
