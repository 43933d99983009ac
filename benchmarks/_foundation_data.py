"""The foundation benchmark's synthetic bars and what its ingest and serving runs share.

10 symbols x 100,000 one-minute bars of regular US sessions (geometric Brownian motion in
cents, fixed seed) as numpy arrays (`Series`), with the instruments they belong to and the
ids those get in a fresh database; plus the settings, SQLite URL and PRAGMAs every run uses
and the `Timings` (quantdesk's and the reference's, per interleaved run) they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from quantdesk.config import Settings
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.schemas import InstrumentCreate
from quantdesk.models import AssetClass

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Row = tuple[int, str, int, float, float, float, float, float]

SYMBOLS = ("AAPL", "AMZN", "GOOG", "JPM", "META", "MSFT", "NVDA", "TSLA", "UNH", "XOM")
BARS_PER_SYMBOL = 100_000
TIMEFRAME = Timeframe.M1
SEED = 20_240_102
FIRST_SESSION = "2023-01-02"  # a Monday; sessions are weekdays 14:30-21:00 UTC (390 bars)
SESSION_OPEN_SECONDS = 14 * 3_600 + 30 * 60
SESSION_BARS = 390

# Same PRAGMAs as quantdesk.db._sqlite_on_connect.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


@dataclass(frozen=True)
class Series:
    symbol: str
    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray

    def head(self, count: int) -> Series:
        return Series(
            self.symbol,
            self.ts[:count],
            self.open[:count],
            self.high[:count],
            self.low[:count],
            self.close[:count],
            self.volume[:count],
        )

    def rows(self, instrument_id: int) -> list[Row]:
        """Plain Python tuples for the references (built before any timing)."""
        return list(
            zip(
                [instrument_id] * len(self.ts),
                [TIMEFRAME.value] * len(self.ts),
                self.ts.tolist(),
                self.open.tolist(),
                self.high.tolist(),
                self.low.tolist(),
                self.close.tolist(),
                self.volume.tolist(),
                strict=True,
            )
        )


def session_minutes(count: int) -> IntArray:
    """Epoch seconds of `count` regular-session minute bars (weekdays 14:30-21:00 UTC)."""
    days_needed = -(-count // SESSION_BARS)
    first = np.datetime64(FIRST_SESSION, "D")
    days = np.arange(first, first + np.timedelta64(days_needed * 2, "D"), dtype="datetime64[D]")
    weekdays = days[np.is_busday(days)][:days_needed]
    day_starts = weekdays.astype("datetime64[s]").astype(np.int64) + SESSION_OPEN_SECONDS
    minutes = np.arange(SESSION_BARS, dtype=np.int64) * 60
    return (day_starts[:, None] + minutes[None, :]).ravel()[:count]


def cents(values: Any) -> FloatArray:
    return np.asarray(values, dtype=np.float64).round(2)


def make_series(rng: np.random.Generator, symbol: str) -> Series:
    """Geometric Brownian motion closes in cents; open = previous close; high/low the body
    plus a positive wick; lognormal share volume."""
    n = BARS_PER_SYMBOL
    start_price = float(rng.uniform(20.0, 500.0))
    sigma = float(rng.uniform(0.0006, 0.0015))  # per minute: ~20-50% a year
    drift = float(rng.normal(0.0, 0.00001))
    log_returns = rng.normal(drift - sigma * sigma / 2, sigma, n)
    close = cents(start_price * np.exp(np.cumsum(log_returns)))
    open_ = np.empty(n, dtype=np.float64)
    open_[0] = round(start_price, 2)
    open_[1:] = close[:-1]
    wick_up = cents(np.abs(rng.normal(0.0, sigma, n)) * close) + 0.01
    wick_down = cents(np.abs(rng.normal(0.0, sigma, n)) * close) + 0.01
    high = cents(np.maximum(open_, close) + wick_up)
    low = cents(np.maximum(np.minimum(open_, close) - wick_down, 0.01))
    volume = np.round(rng.lognormal(mean=8.0, sigma=1.0, size=n))
    return Series(symbol, session_minutes(n), open_, high, low, close, volume)


def make_data() -> list[Series]:
    rng = np.random.default_rng(SEED)
    return [make_series(rng, symbol) for symbol in SYMBOLS]


def instrument(symbol: str) -> InstrumentCreate:
    return InstrumentCreate(
        symbol=symbol,
        name=f"{symbol} (synthetic)",
        exchange="NASDAQ",
        asset_class=AssetClass.EQUITY,
        currency="USD",
    )


@dataclass
class Timings:
    quantdesk: list[float]
    reference: list[float]

    @property
    def best(self) -> tuple[float, float]:
        return min(self.quantdesk), min(self.reference)


def settings_for(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url)


def expected_ids() -> dict[str, int]:
    """Instrument ids in a fresh database: 1..10 in SYMBOLS order (checked after creating)."""
    return {symbol: index for index, symbol in enumerate(SYMBOLS, start=1)}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"
