"""Inputs and settings are checked at the boundary, with messages that say what is wrong."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from quantdesk.engine.backtest import (
    BacktestConfig,
    Bars,
    SmaCross,
    backtest_bars,
    run_backtest,
    sweep_sma_cross,
)
from tests.support.ohlcv import goog_ohlcv

PRICES = np.full(10, 100.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"cash": 0.0}, "cash"),
        ({"commission": -0.001}, "commission"),
        ({"slippage_bps": -1.0}, "slippage"),
        ({"fill": "open"}, "fill"),
        ({"sizing": "kelly"}, "sizing"),
        ({"fraction": 1.5}, "fraction"),
        ({"stop_loss_pct": 0.0}, "stop_loss"),
        ({"take_profit_pct": -1.0}, "take_profit"),
        ({"max_bars": 0}, "max_bars"),
        ({"periods_per_year": 0.0}, "periods_per_year"),
    ],
)
def test_invalid_config_is_rejected(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BacktestConfig(**settings)


@pytest.mark.parametrize(
    ("signal", "message"),
    [
        (np.full(10, 2), "-1, 0 or"),
        (np.full(9, 1), "10 bars"),
        (np.full(10, np.nan), "NaN"),
        (np.full(10, 0.5), "-1, 0 or"),
    ],
)
def test_invalid_signal_is_rejected(signal: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_backtest(PRICES, PRICES, PRICES, PRICES, signal=signal)


def test_exactly_one_of_strategy_and_signal() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        run_backtest(PRICES, PRICES, PRICES, PRICES)
    with pytest.raises(ValueError, match="exactly one"):
        run_backtest(PRICES, PRICES, PRICES, PRICES, strategy=SmaCross(), signal=np.zeros(10))


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ((PRICES, PRICES, PRICES, PRICES[:5]), "same length"),
        ((PRICES, PRICES, PRICES, np.r_[PRICES[:9], np.nan]), "finite"),
        ((PRICES, PRICES, PRICES, -PRICES), "> 0"),
        ((PRICES[:1],) * 4, "at least 2"),
    ],
)
def test_invalid_bars_are_rejected(columns: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_backtest(*columns, signal=np.zeros(len(columns[3]), dtype=np.int8))


def test_timestamps_must_increase() -> None:
    with pytest.raises(ValueError, match="increasing"):
        run_backtest(PRICES, PRICES, PRICES, PRICES, ts=np.zeros(10), signal=np.zeros(10))


def test_bool_signal_means_long_or_flat() -> None:
    signal = np.array([False, True, True, True, False, False, False, False, False, False])
    result = run_backtest(PRICES, PRICES, PRICES, PRICES, signal=signal)
    assert result.trades.entry_bar.tolist() == [2]
    assert result.trades.exit_bar.tolist() == [5]


@pytest.mark.parametrize("allow_short", [False, True])
def test_the_largest_accepted_periods_per_year_annualizes_without_failing(
    allow_short: bool,
) -> None:
    # 31,536,000 (bars of one second, all year) on daily bars: (1 + g) ** P overflows.
    # The annualized figures are infinite or undefined; the run itself does not fail.
    data = goog_ohlcv()
    bars = Bars.of(data.open, data.high, data.low, data.close)
    config = BacktestConfig(periods_per_year=31_536_000.0, allow_short=allow_short)
    stats = backtest_bars(bars, strategy=SmaCross(10, 20), config=config).stats
    assert stats["return_ann_pct"] == math.inf
    assert stats["volatility_ann_pct"] is None and stats["sharpe"] is None
    assert stats["trades"] > 0  # type: ignore[operator]
    sweep = sweep_sma_cross(bars, [10], [20], config)
    assert sweep.column("sharpe")[0] != sweep.column("sharpe")[0]  # NaN, as above
    assert sweep.column("equity_final")[0] == stats["equity_final"]
