"""Signal functions: SMA against pandas, crossovers against backtesting.py, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from backtesting.lib import crossover
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.engine.backtest import SmaCross, crossover_target, sma, sma_cross
from tests.support.ohlcv import goog_ohlcv, random_ohlcv


@pytest.mark.parametrize("period", [1, 2, 10, 20, 200])
def test_sma_matches_pandas_rolling_mean(period: int) -> None:
    close = random_ohlcv(20_000, seed=3).close  # long enough to cross the re-sum points
    expected = pd.Series(close).rolling(period).mean().to_numpy()
    got = sma(close, period)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


def test_crossover_target_matches_backtesting_py_crossover_bar_by_bar() -> None:
    close = goog_ohlcv().close
    fast, slow = sma(close, 10), sma(close, 20)
    target = crossover_target(fast, slow)
    state = 0
    for i in range(1, close.size):
        if crossover(fast[: i + 1], slow[: i + 1]):
            state = 1
        elif crossover(slow[: i + 1], fast[: i + 1]):
            state = -1
        assert target[i] == state, i


def test_touching_without_crossing_is_not_a_signal() -> None:
    fast = np.array([1.0, 2.0, 2.0, 3.0, 2.0, 1.0])
    slow = np.array([2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    assert crossover_target(fast, slow).tolist() == [0, 0, 0, 0, 0, 0]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(1.0, 1000.0), min_size=30, max_size=120),
    st.integers(1, 5),
    st.integers(6, 15),
    st.data(),
)
def test_sma_cross_uses_no_future_bars(
    closes: list[float], fast: int, slow: int, data: st.DataObject
) -> None:
    close = np.array(closes)
    cut = data.draw(st.integers(1, close.size - 1))
    changed = close.copy()
    changed[cut:] = changed[cut:][::-1] * 1.7  # rewrite the future
    np.testing.assert_array_equal(
        sma_cross(close, fast, slow)[:cut], sma_cross(changed, fast, slow)[:cut]
    )


def test_sma_cross_spec_warmup_is_the_slow_average_warmup() -> None:
    assert SmaCross(10, 20).warmup_bars == 19
    with pytest.raises(ValueError, match="period"):
        SmaCross(0, 20)
