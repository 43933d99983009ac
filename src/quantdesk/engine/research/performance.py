"""Price performance of one instrument: returns over calendar periods, and annualised
volatility and maximum drawdown from the backtest engine's statistics (a buy-and-hold run
of the closes: equity proportional to the close, so its statistics are the price's).

Returns over a period compare the last close with the last close on or before
`last time - days`; a period longer than the history is `None`. `bars_per_year` is
observed (bars in the trailing 365.25 days, or in the whole history when shorter), so the
annualisation fits equities (~252 a year), crypto (~365) and hourly bars alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quantdesk.engine.backtest import BacktestConfig, Bars, backtest_bars

DAY = 86_400
YEAR_SECONDS = int(365.25 * DAY)
PERIODS: tuple[tuple[str, int], ...] = (
    ("1m", 30),
    ("3m", 91),
    ("6m", 182),
    ("1y", 365),
    ("3y", 1096),
    ("5y", 1826),
)


@dataclass(frozen=True, slots=True)
class Performance:
    last_close: float
    last_ts: int
    first_ts: int
    bars: int
    returns_pct: dict[str, float | None]  # period label -> return, "max" the whole history
    volatility_1y_pct: float | None  # annualised, trailing year
    max_drawdown_1y_pct: float | None  # positive, trailing year
    max_drawdown_pct: float | None  # whole history
    bars_per_year: float


def _window_stats(close: npt.NDArray[np.float64], per_year: float) -> tuple[float | None, ...]:
    if close.size < 3:
        return None, None
    ones = np.ones(close.size)
    bars = Bars.of(close, close, close, close)
    config = BacktestConfig(
        cash=1_000_000.0,
        commission=0.0,
        fill="close",
        sizing="fraction",
        fraction=1.0,
        whole_units=False,
        periods_per_year=per_year,
    )
    stats = backtest_bars(bars, signal=ones, config=config).stats
    vol, dd = stats["volatility_ann_pct"], stats["max_drawdown_pct"]
    return (
        float(vol) if vol is not None else None,
        float(dd) if dd is not None else None,
    )


def performance(ts: npt.ArrayLike, close: npt.ArrayLike) -> Performance:
    """`ts` bar open times (epoch seconds, increasing), `close` the closes; at least 1 bar."""
    times = np.asarray(ts, dtype=np.int64)
    closes = np.asarray(close, dtype=np.float64)
    if times.size == 0 or times.size != closes.size:
        raise ValueError("performance needs one close per timestamp, at least one bar")
    last_ts, last = int(times[-1]), float(closes[-1])
    returns: dict[str, float | None] = {}
    for label, days in PERIODS:
        cutoff = last_ts - days * DAY
        index = int(np.searchsorted(times, cutoff, side="right")) - 1
        returns[label] = None if index < 0 else (last / float(closes[index]) - 1.0) * 100.0
    returns["max"] = (last / float(closes[0]) - 1.0) * 100.0
    year_start = int(np.searchsorted(times, last_ts - YEAR_SECONDS, side="left"))
    span = max(float(times[-1] - times[0]), 1.0)
    if year_start > 0:
        per_year = float(times.size - year_start)
    else:
        per_year = (times.size - 1) * YEAR_SECONDS / span if times.size > 1 else 1.0
    per_year = max(per_year, 1.0)
    vol_1y, dd_1y = _window_stats(closes[max(0, year_start - 1) :], per_year)
    _, dd_all = _window_stats(closes, per_year)
    return Performance(
        last_close=last,
        last_ts=last_ts,
        first_ts=int(times[0]),
        bars=int(times.size),
        returns_pct=returns,
        volatility_1y_pct=vol_1y,
        max_drawdown_1y_pct=dd_1y,
        max_drawdown_pct=dd_all,
        bars_per_year=per_year,
    )
