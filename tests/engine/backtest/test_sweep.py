"""The parameter sweep reproduces single backtests and ranks them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from quantdesk.engine.backtest import BacktestConfig, Bars, SmaCross, _sweep_kernel, backtest_bars
from quantdesk.engine.backtest.strategies import sma
from quantdesk.engine.backtest.sweep import METRICS, sweep_sma_cross
from tests.support.ohlcv import goog_ohlcv, random_ohlcv


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
    "fixed size, entries the cash cannot pay canceled": BacktestConfig(
        cash=20_000.0, sizing="fixed", size=100.0, commission=0.001, allow_short=True
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


def _assert_pairs_equal_singles(bars: Bars, fast: list[int], slow: list[int], config: Any) -> None:
    result = sweep_sma_cross(bars, fast, slow, config, threads=1)
    for p in range(len(result.fast)):
        strategy = SmaCross(int(result.fast[p]), int(result.slow[p]))
        single = backtest_bars(bars, strategy=strategy, config=config).stats
        for name, value in zip(METRICS, result.values[p], strict=True):
            expected = single[name]
            if expected is None:
                assert math.isnan(value), (name, p)
            else:
                assert np.isclose(value, expected, rtol=1e-9, atol=1e-9), (name, p)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_pairs_equal_singles_on_random_walks(seed: int, config: BacktestConfig) -> None:
    # Short, volatile series: flat stretches at the start and end, trades on the first
    # and last bars, re-entries on an exit bar - the out-of-market shortcuts must agree.
    data = random_ohlcv(400 + 37 * seed, seed=seed)
    bars = Bars.of(data.open, data.high, data.low, data.close)
    _assert_pairs_equal_singles(bars, [2, 3, 5, 8], [4, 9, 21, 50], config)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_pairs_equal_singles_with_long_and_short_flat_runs(config: BacktestConfig) -> None:
    # 6,000 bars and slow periods up to 300: runs out of the market longer than
    # FLAT_FILL bars (closed form) between shorter ones (read bar by bar), and drawdown
    # blocks of every kind (no new peak, a new peak only, a new peak then a new low).
    data = random_ohlcv(6000, seed=3)
    bars = Bars.of(data.open, data.high, data.low, data.close)
    _assert_pairs_equal_singles(bars, [3, 10, 40], [20, 90, 300], config)


def test_pairs_equal_singles_through_ruin() -> None:
    # Up, down, then a jump to 500: short all-in is ruined (liquidated, equity 0 after).
    close = np.r_[np.linspace(50.0, 100.0, 20), np.linspace(100.0, 60.0, 40), np.full(30, 500.0)]
    bars = Bars.of(close, close * 1.01, close * 0.99, close)
    config = BacktestConfig(allow_short=True, commission=0.001)
    assert backtest_bars(bars, strategy=SmaCross(2, 5), config=config).stats["equity_final"] == 0
    _assert_pairs_equal_singles(bars, [2, 3], [5, 8], config)


def test_shared_average_pass_equals_each_sma_bit_for_bit() -> None:
    # Long enough for the periodic re-summing (every 4096 bars) to matter; periods longer
    # than the series are all NaN.
    close = random_ohlcv(10_000, seed=11).close
    periods = np.array([1, 2, 7, 50, 333, 4096, 5000, 12_000], dtype=np.int64)
    shared = _sweep_kernel.rolling_means(close, periods, np.empty((periods.size, close.size)))
    for row, period in enumerate(periods):
        assert np.array_equal(shared[row], sma(close, int(period)), equal_nan=True), period
