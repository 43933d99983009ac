"""The parameter sweep reproduces single backtests and ranks them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantdesk.engine.backtest import BacktestConfig, Bars, SmaCross, backtest_bars
from quantdesk.engine.backtest.sweep import METRICS, sweep_sma_cross
from tests.engine.conftest import goog_ohlcv, random_ohlcv


@pytest.fixture(scope="module")
def goog() -> Bars:
    data = goog_ohlcv()
    return Bars.of(data.open, data.high, data.low, data.close)


CONFIGS = {
    "long-only": BacktestConfig(),
    "long-short, commission, stops": BacktestConfig(
        allow_short=True,
        commission=0.001,
        stop_loss_pct=4.0,
        take_profit_pct=12.0,
        max_bars=60,
        slippage_bps=2.0,
    ),
    "close fills, fraction sizing": BacktestConfig(
        fill="close", sizing="fraction", fraction=0.5, whole_units=False, allow_short=True
    ),
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_each_pair_equals_its_single_backtest(goog: Bars, config: BacktestConfig) -> None:
    result = sweep_sma_cross(goog, [5, 10, 20], [10, 30, 50], config)
    assert result.fast.tolist() == [5, 5, 5, 10, 10, 20, 20]  # fast < slow only
    assert result.slow.tolist() == [10, 30, 50, 30, 50, 30, 50]
    for p in range(len(result.fast)):
        single = backtest_bars(
            goog, strategy=SmaCross(int(result.fast[p]), int(result.slow[p])), config=config
        ).stats
        for name, value in zip(METRICS, result.values[p], strict=True):
            expected = single[name]
            if expected is None:
                assert math.isnan(value), name
            else:
                assert np.isclose(value, expected, rtol=1e-9, atol=1e-9), name


def test_ranking_and_heatmap(goog: Bars) -> None:
    result = sweep_sma_cross(goog, [5, 10, 20], [10, 30], rank_by="sharpe")
    sharpe = result.column("sharpe")
    ranked = sharpe[result.order]
    assert (np.diff(ranked[~np.isnan(ranked)]) <= 0).all()
    assert result.heatmap.shape == (3, 2)
    assert math.isnan(result.heatmap[1, 0])  # fast 10 >= slow 10
    assert math.isnan(result.heatmap[2, 0])
    best = result.ranked(limit=1)[0]
    assert best["sharpe"] == pytest.approx(np.nanmax(sharpe))
    assert isinstance(best["trades"], int)


def test_drawdown_ranks_ascending() -> None:
    data = random_ohlcv(3000, seed=5)
    bars = Bars.of(data.open, data.high, data.low, data.close)
    result = sweep_sma_cross(bars, [3, 5, 8], [13, 21], rank_by="max_drawdown_pct")
    ranked = result.column("max_drawdown_pct")[result.order]
    assert (np.diff(ranked) >= 0).all()


def test_unknown_rank_metric_is_rejected(goog: Bars) -> None:
    with pytest.raises(ValueError, match="rank_by"):
        sweep_sma_cross(goog, [5], [10], rank_by="alpha")
