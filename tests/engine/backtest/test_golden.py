"""Golden figures on real data: an SMA(10)/SMA(20) crossover on backtesting.py's bundled
daily GOOG series against backtesting.py 0.6 and vectorbt, trade by trade."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import GOOG, SMA

from quantdesk.engine.backtest import BacktestConfig, BacktestResult, SmaCross, Stat, run_backtest

CASH = 1_000_000.0
FAST, SLOW = 10, 20


class LongOnlySmaCross(Strategy):  # type: ignore[misc]
    """Buy (all equity) when SMA(10) crosses above SMA(20); close when it crosses below."""

    fast = FAST
    slow = SLOW

    def init(self) -> None:
        self.sma1 = self.I(SMA, self.data.Close, self.fast)
        self.sma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.sma1, self.sma2):
            if not self.position:
                self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()


class LongShortSmaCross(LongOnlySmaCross):
    """backtesting.py's own ``SmaCross`` (``backtesting/test/_test.py``): on each cross,
    close and reverse. The ``is_long``/``is_short`` guards only matter when a cross
    repeats without an opposite one in between (equal SMAs); GOOG has none."""

    def next(self) -> None:
        if crossover(self.sma1, self.sma2) and not self.position.is_long:
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1) and not self.position.is_short:
            self.position.close()
            self.sell()


CASES = [
    pytest.param(False, 0.0, "next_open", id="long-only-no-commission"),
    pytest.param(False, 0.001, "next_open", id="long-only-commission-0.1%"),
    pytest.param(True, 0.0, "next_open", id="long-short-no-commission"),
    pytest.param(True, 0.001, "next_open", id="long-short-commission-0.1%"),
    pytest.param(True, 0.001, "close", id="long-short-commission-0.1%-close-fills"),
]


def figure(stats: dict[str, Stat], key: str) -> float:
    value = stats[key]
    assert value is not None, key
    return float(value)


def ours(allow_short: bool, commission: float, fill: Any) -> BacktestResult:
    config = BacktestConfig(cash=CASH, commission=commission, allow_short=allow_short, fill=fill)
    ts = GOOG.index.to_numpy().astype("datetime64[s]").astype(np.int64)
    return run_backtest(
        GOOG.Open, GOOG.High, GOOG.Low, GOOG.Close, ts=ts,
        strategy=SmaCross(FAST, SLOW), config=config,
    )  # fmt: skip


def reference_backtesting_py(allow_short: bool, commission: float, fill: str) -> pd.Series:
    strategy = LongShortSmaCross if allow_short else LongOnlySmaCross
    backtest = Backtest(
        GOOG, strategy, cash=CASH, commission=commission, trade_on_close=fill == "close"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "some trades remain open": on purpose
        stats: pd.Series = backtest.run()
    return stats


@pytest.mark.parametrize(("allow_short", "commission", "fill"), CASES)
def test_trades_and_figures_match_backtesting_py(
    allow_short: bool, commission: float, fill: str
) -> None:
    result = ours(allow_short, commission, fill)
    expected = reference_backtesting_py(allow_short, commission, fill)
    reference = expected["_trades"]
    trades = result.trades

    assert len(trades) == len(reference) > 40
    np.testing.assert_array_equal(trades.entry_bar, reference.EntryBar)
    np.testing.assert_array_equal(trades.exit_bar, reference.ExitBar)
    np.testing.assert_array_equal(trades.units, reference.Size)
    np.testing.assert_array_equal(trades.entry_price, reference.EntryPrice)
    np.testing.assert_array_equal(trades.exit_price, reference.ExitPrice)
    np.testing.assert_allclose(trades.pnl, reference.PnL, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(trades.commission, reference.Commission, rtol=1e-12)
    np.testing.assert_allclose(trades.return_pct, reference.ReturnPct * 100, rtol=1e-9)

    stats = result.stats
    assert round(figure(stats, "equity_final"), 2) == round(expected["Equity Final [$]"], 2)
    assert np.isclose(figure(stats, "max_drawdown_pct"), -expected["Max. Drawdown [%]"])
    assert np.isclose(figure(stats, "win_rate_pct"), expected["Win Rate [%]"], rtol=1e-12)
    assert np.isclose(figure(stats, "sqn"), expected["SQN"], rtol=1e-9)
    assert stats["trades"] == expected["# Trades"]
    assert stats["open_trades"] == 1  # GOOG ends inside a trade on every case


# backtesting.py rounds its Timedelta figures up to the data's resolution (whole days).
DURATIONS = {
    "Max. Drawdown Duration",
    "Avg. Drawdown Duration",
    "Max. Trade Duration",
    "Avg. Trade Duration",
}


@pytest.mark.parametrize(("allow_short", "commission", "fill"), CASES[:4])
def test_compat_block_equals_backtesting_py_stats(
    allow_short: bool, commission: float, fill: str
) -> None:
    compat = ours(allow_short, commission, fill).compat["backtesting_py"]
    expected = reference_backtesting_py(allow_short, commission, fill)
    for key, value in compat.items():
        reference = expected.get(key, 0.0)  # 'Commissions [$]' is absent when 0
        assert value is not None, key
        if key in DURATIONS:
            assert np.ceil(value) == reference.days, key
        else:
            assert np.isclose(value, reference, rtol=1e-9, atol=1e-9), key


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # vectorbt 1.2 under pandas 3
@pytest.mark.parametrize(("allow_short", "commission", "fill"), CASES)
def test_trades_and_final_equity_match_vectorbt(
    allow_short: bool, commission: float, fill: str
) -> None:
    vbt = pytest.importorskip("vectorbt")
    close = GOOG.Close
    fast, slow = close.rolling(FAST).mean(), close.rolling(SLOW).mean()
    up = (fast.shift(1) < slow.shift(1)) & (fast > slow)
    down = (fast.shift(1) > slow.shift(1)) & (fast < slow)
    if fill == "next_open":
        up, down, price = up.shift(1, fill_value=False), down.shift(1, fill_value=False), GOOG.Open
    else:
        price = close
    exits: dict[str, Any] = {"short_entries": down} if allow_short else {"exits": down}
    portfolio = vbt.Portfolio.from_signals(
        close=close, entries=up, **exits, price=price, size=np.inf, size_granularity=1,
        fees=commission, init_cash=CASH, freq="1D",
    )  # fmt: skip
    reference = portfolio.trades.records_readable
    closed = reference[reference.Status == "Closed"]
    result = ours(allow_short, commission, fill)

    assert len(result.trades) == len(closed)
    entry_bars = GOOG.index.get_indexer(closed["Entry Timestamp"])
    np.testing.assert_array_equal(result.trades.entry_bar, entry_bars)
    np.testing.assert_array_equal(np.abs(result.trades.units), closed.Size)
    np.testing.assert_allclose(result.trades.exit_price, closed["Avg Exit Price"], rtol=1e-12)
    np.testing.assert_allclose(result.trades.pnl, closed.PnL, rtol=1e-9, atol=1e-6)
    assert round(figure(result.stats, "equity_final"), 2) == round(portfolio.final_value(), 2)
    assert np.isclose(figure(result.stats, "max_drawdown_pct"), -portfolio.max_drawdown() * 100)
