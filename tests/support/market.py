"""Market overview test data: instruments with hand-made daily closes, and the refresh."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from quantdesk.analytics.market.service import RefreshResult, market_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.frames import BarFrame
from tests.support.factories import create_instrument, load_bars


def epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def daily_frame(last_day: date, closes: Sequence[float], volume: float = 1_000.0) -> BarFrame:
    """One daily bar per calendar day ending on `last_day`, closing at `closes`."""
    close = np.asarray(closes, dtype=np.float64)
    end = epoch(last_day)
    ts = end - 86_400 * np.arange(len(close) - 1, -1, -1, dtype=np.int64)
    open_ = np.concatenate(([close[0]], close[:-1]))
    return BarFrame(
        ts=ts,
        open=open_,
        high=np.maximum(open_, close) * 1.001,
        low=np.minimum(open_, close) * 0.999,
        close=close,
        volume=np.full(len(close), volume),
    )


async def add_daily(
    db: Database,
    symbol: str,
    last_day: date,
    closes: Sequence[float],
    volume: float = 1_000.0,
    **instrument: Any,
) -> None:
    await create_instrument(db, symbol, **instrument)
    await load_bars(db, symbol, daily_frame(last_day, closes, volume))


async def refresh(db: Database, settings: Settings, today: date) -> RefreshResult:
    async with db.session() as session:
        return await market_service.refresh(session, settings, today=today)
