"""Factory functions for test data (factories, not a giant fixture file)."""

from __future__ import annotations

from typing import Any

import numpy as np

from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.schemas import InstrumentCreate
from quantdesk.marketdata.service import bar_service, instrument_service
from quantdesk.models import AssetClass, Instrument

START_2024 = 1_704_067_200  # 2024-01-01T00:00:00Z


def synthetic_bars(
    count: int, *, start: int = START_2024, step: int = 86_400, seed: int = 7, price: float = 100.0
) -> BarFrame:
    """A valid random-walk OHLCV series (high/low wrap the body, volume positive)."""
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0, 0.01, count)))
    open_ = np.concatenate(([price], close[:-1]))
    wick = np.abs(rng.normal(0, 0.004, count)) * close
    return BarFrame(
        ts=start + step * np.arange(count, dtype=np.int64),
        open=open_,
        high=np.maximum(open_, close) + wick,
        low=np.minimum(open_, close) - wick,
        close=close,
        volume=rng.lognormal(10, 1, count).round(),
    )


def instrument_data(symbol: str = "TEST", **overrides: Any) -> InstrumentCreate:
    values: dict[str, Any] = {
        "symbol": symbol,
        "name": f"{symbol} Corp",
        "exchange": "NYSE",
        "asset_class": AssetClass.EQUITY,
        "currency": "USD",
        "sector": "Technology",
    }
    values.update(overrides)
    return InstrumentCreate(**values)


async def create_instrument(db: Database, symbol: str = "TEST", **overrides: Any) -> Instrument:
    async with db.session() as session:
        return await instrument_service.upsert(session, instrument_data(symbol, **overrides))


async def load_bars(
    db: Database, symbol: str, frame: BarFrame, timeframe: Timeframe = Timeframe.D1
) -> None:
    async with db.session() as session:
        await bar_service.ingest(session, symbol=symbol, timeframe=timeframe, frame=frame)
