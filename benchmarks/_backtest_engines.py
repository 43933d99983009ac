"""The backtest benchmark's data and the three engines it times on it.

`make_data` builds synthetic hourly bars (a geometric random walk, fixed seed) both as
quantdesk `Bars` and as the OHLCV DataFrame the references take; `quantdesk_run`,
`vectorbt_run` and `backtesting_py_run` run the same long-only SMA(10)/SMA(20) crossover, with
or without statistics, through quantdesk, vectorbt and backtesting.py.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.engine.backtest import (
    BacktestConfig,
    BacktestResult,
    Bars,
    SmaCross,
    backtest_bars,
    simulate,
)

FAST, SLOW = 10, 20
SEED = 20_240_611
CONFIG = BacktestConfig(cash=1_000_000.0, periods_per_year=24 * 365)


@dataclass(frozen=True)
class Data:
    bars: Bars
    frame: pd.DataFrame  # the same bars, DatetimeIndex (UTC), Open/High/Low/Close/Volume


def make_data(size: int) -> Data:
    """Geometric random walk closes (0.2 % per hour), opens near the previous close,
    high/low a small random wick beyond the body; hourly, 24/7, from 2020-01-01 UTC."""
    rng = np.random.default_rng(SEED)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, size)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0.0, 0.0005, size))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.002, size))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.002, size))
    volume = rng.integers(1, 1_000_000, size).astype(np.float64)
    ts = 1_577_836_800 + 3_600 * np.arange(size, dtype=np.int64)
    bars = Bars.of(open_, high, low, close, volume, ts)
    index = pd.to_datetime(ts, unit="s")  # naive UTC: vectorbt is very slow on tz-aware
    columns = {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": volume}
    return Data(bars=bars, frame=pd.DataFrame(columns, index=index))


def quantdesk_run(bars: Bars, stats: bool = True) -> BacktestResult | int:
    strategy = SmaCross(FAST, SLOW)
    if stats:
        return backtest_bars(bars, strategy=strategy, config=CONFIG)
    return len(simulate(bars, strategy.target(bars), CONFIG).trades)


def vectorbt_run(frame: pd.DataFrame, stats: bool = True) -> Any:
    """Crossovers from vectorbt's own MA indicator, shifted one bar and filled at the open."""
    import vectorbt as vbt

    close = frame["Close"]
    fast, slow = vbt.MA.run(close, FAST), vbt.MA.run(close, SLOW)
    entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
    exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
    portfolio = vbt.Portfolio.from_signals(
        close=close, entries=entries, exits=exits, price=frame["Open"], size=np.inf,
        size_granularity=1, fees=CONFIG.commission, init_cash=CONFIG.cash, freq="1h",
    )  # fmt: skip
    if stats:
        portfolio.stats()
    return portfolio


def backtesting_py_run(frame: pd.DataFrame) -> Any:
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(values: Any, period: int) -> Any:
        return pd.Series(values).rolling(period).mean()

    class LongOnlySmaCross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                if not self.position:
                    self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()

    os.environ["TQDM_DISABLE"] = "1"  # its progress bar
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # open trade at the end, tqdm, ...
        return Backtest(frame, LongOnlySmaCross, cash=CONFIG.cash).run()
