"""Signals and genuine GOOG bars for the signal tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import as_file, files
from typing import Any

from quantdesk.db import Database
from quantdesk.marketdata import frames
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import Signal, SignalDirection, SignalStatus
from tests.support.factories import create_instrument

# GOOG bars [WINDOW_START, WINDOW_END): the last of them fires several strategies at once.
WINDOW_START, WINDOW_END = 126, 526


@cache
def goog() -> BarFrame:
    """The genuine GOOG daily series shipped with `backtesting` (2004-2013)."""
    with as_file(files("backtesting.test") / "GOOG.csv") as path:
        return frames.read_csv(path)


def goog_window(start: int = WINDOW_START, end: int = WINDOW_END) -> BarFrame:
    return goog().slice(start, end)


def after_close(frame: BarFrame, *, seconds: int = 86_400) -> datetime:
    """A moment just after the last bar of a daily frame closed."""
    return datetime.fromtimestamp(int(frame.ts[-1]) + seconds + 60, UTC)


async def create_signal(db: Database, symbol: str = "TEST", **overrides: Any) -> Signal:
    """A stored signal (the instrument is created when missing)."""
    instrument = await create_instrument(db, symbol)
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "instrument_id": instrument.id,
        "symbol": instrument.symbol,
        "timeframe": "1d",
        "strategy": "rsi_reversal",
        "params": {},
        "direction": SignalDirection.LONG,
        "entry": 100.0,
        "target": 106.0,
        "stop": 97.0,
        "confidence": 60.0,
        "rationale": [
            {
                "name": "rsi_cross",
                "text": "RSI(14) crossed above 30",
                "value": 31.0,
                "threshold": 30.0,
            }
        ],
        "status": SignalStatus.ACTIVE,
        "source_ts": 1_704_067_200,
        "created_at": now,
        "expires_at": now + timedelta(days=10),
    }
    values.update(overrides)
    async with db.session() as session:
        signal = Signal(**values)
        session.add(signal)
        await session.flush()
    return signal
