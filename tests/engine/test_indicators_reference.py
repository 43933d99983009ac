"""Indicators without a TA-Lib counterpart (VWAP, rolling volatility) against pandas,
and their numpy kernels against direct window computations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from quantdesk.engine import indicators as ind
from quantdesk.engine.indicators import FloatArray
from quantdesk.engine.indicators._kernels import rolling_sum, rolling_variance
from tests.support.ohlcv import OHLCV


@pytest.mark.parametrize("dataset", ["random", "goog"])
@pytest.mark.parametrize(
    ("period", "periods_per_year"), [(2, 252.0), (20, 252.0), (60, 1.0), (5, 365.0)]
)
def test_rolling_volatility_matches_pandas(
    period: int, periods_per_year: float, dataset: str, datasets: dict[str, OHLCV]
) -> None:
    close = datasets[dataset].close
    expected = (
        pd.Series(np.log(close)).diff().rolling(period).std() * math.sqrt(periods_per_year)
    ).to_numpy()
    got = ind.rolling_volatility(close, period, periods_per_year)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_rolling_volatility_of_a_flat_series_is_zero() -> None:
    got = ind.rolling_volatility(np.full(30, 42.0), 5)
    assert np.isnan(got[:5]).all()
    assert (got[5:] == 0.0).all()


def _pandas_vwap(data: OHLCV, window: int | None) -> FloatArray:
    frame = pd.DataFrame(data._asdict())
    weighted = (frame.high + frame.low + frame.close) / 3 * frame.volume
    if window is None:
        price_volume, volume = weighted.cumsum(), frame.volume.cumsum()
    else:
        price_volume = weighted.rolling(window).sum()
        volume = frame.volume.rolling(window).sum()
    return (price_volume / volume.where(volume > 0)).to_numpy()


@pytest.mark.parametrize("dataset", ["random", "goog"])
@pytest.mark.parametrize("window", [None, 1, 2, 20, 390])
def test_vwap_matches_pandas(window: int | None, dataset: str, datasets: dict[str, OHLCV]) -> None:
    data = datasets[dataset]
    got = ind.vwap(data.high, data.low, data.close, data.volume, window)
    expected = _pandas_vwap(data, window)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-9, equal_nan=True)


def test_vwap_is_nan_without_volume() -> None:
    price = np.array([10.0, 11.0, 12.0, 13.0, 14.0])
    volume = np.array([0.0, 0.0, 5.0, 0.0, 0.0])
    cumulative = ind.vwap(price, price, price, volume)
    np.testing.assert_array_equal(cumulative, [np.nan, np.nan, 12.0, 12.0, 12.0])
    rolling = ind.vwap(price, price, price, volume, window=2)
    np.testing.assert_array_equal(rolling, [np.nan, np.nan, 12.0, 12.0, np.nan])


@pytest.mark.parametrize("period", [1, 2, 3, 14, 250, 1500])
def test_rolling_kernels_match_direct_windows(period: int) -> None:
    rng = np.random.default_rng(period)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, 5000)))
    windows = sliding_window_view(x, period)
    np.testing.assert_allclose(rolling_sum(x, period), windows.sum(axis=1), rtol=1e-12)
    # Standard deviations, compared relative to the price level they are added to.
    sigma = np.sqrt(rolling_variance(x, period))
    np.testing.assert_allclose(sigma, windows.std(axis=1), rtol=0, atol=1e-10 * x.max())


def test_rolling_variance_is_exactly_zero_on_flat_stretches() -> None:
    x = np.concatenate([np.linspace(1.0, 500.0, 100), np.full(50, 7.3), np.linspace(3.0, 9.0, 60)])
    variance = rolling_variance(x, 5)
    assert (variance[100:146] == 0.0).all()
    assert (variance >= 0.0).all()


@pytest.mark.parametrize("size", [0, 1, 4])
def test_rolling_kernels_on_inputs_shorter_than_the_window(size: int) -> None:
    x = np.arange(float(size))
    assert rolling_sum(x, 5).size == 0
    assert rolling_variance(x, 5).size == 0
