"""Volatility indicators: true range, ATR, Bollinger Bands, rolling volatility.

Every value is known at the close of the bar it is aligned with.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators._core import (
    FloatArray,
    as_float_array,
    as_float_arrays,
    check_finite,
    check_period,
    nan_array,
    skip_leading_nans,
)
from quantdesk.engine.indicators._jit_averages import bbands_kernel
from quantdesk.engine.indicators._jit_oscillators import atr_kernel
from quantdesk.engine.indicators._kernels import rolling_variance


class BBandsResult(NamedTuple):
    """Bollinger Bands, in price units."""

    upper: FloatArray
    middle: FloatArray
    lower: FloatArray


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """Wilder's true range per bar; bar 0 (no previous close) is NaN.

    ``max(high - low, |previous close - high|, |previous close - low|)``.
    """
    out = nan_array(close.size)
    if close.size > 1:
        previous = close[:-1]
        result = np.subtract(high[1:], low[1:], out=out[1:])
        gap = np.subtract(previous, high[1:])
        np.maximum(result, np.abs(gap, out=gap), out=result)
        np.subtract(previous, low[1:], out=gap)
        np.maximum(result, np.abs(gap, out=gap), out=result)
    return out


def atr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    """Average true range with Wilder smoothing, in price units (TA-Lib ``ATR``).

    The first value, at bar ``period``, is the mean of the true ranges of bars
    1..period; then ``atr = atr_prev * (period - 1) / period + tr / period`` (TA-Lib
    0.8's two-coefficient form, one fused multiply-add).
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    period = check_period(period, "period", minimum=1)
    out = np.empty(c.size)
    atr_kernel(h, lo, c, period, out)
    return out


def bbands(
    close: npt.ArrayLike,
    period: int = 5,
    nbdev_up: float = 2.0,
    nbdev_dn: float = 2.0,
) -> BBandsResult:
    """Bollinger Bands around an SMA (``talib.BBANDS`` with its default matype 0).

    middle = SMA(close, period); upper/lower = middle +/- nbdev * sigma, where sigma
    is the population standard deviation of the same window. First values at bar
    ``period - 1``. A window that is flat to rounding precision has sigma = 0
    (TA-Lib 0.8's cancellation-guarded running variance; see ``bbands_kernel``).
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period")
    nbdev_up = check_finite(nbdev_up, "nbdev_up")
    nbdev_dn = check_finite(nbdev_dn, "nbdev_dn")

    upper, middle, lower = np.empty(x.size), np.empty(x.size), np.empty(x.size)
    bbands_kernel(x, period, nbdev_up, nbdev_dn, upper, middle, lower)
    return BBandsResult(upper, middle, lower)


def rolling_volatility(
    close: npt.ArrayLike, period: int = 20, periods_per_year: float = 252.0
) -> FloatArray:
    """Annualized rolling volatility of log returns (no TA-Lib equivalent).

    ``stdev(ln(close[t] / close[t-1]) over the last period returns, ddof=1)
    * sqrt(periods_per_year)``, as a fraction (0.2 = 20 % a year). Use
    ``periods_per_year=252`` for daily bars, ``1`` for the raw per-bar figure. First
    value at bar ``period`` (it needs ``period`` returns). Equal to pandas'
    ``np.log(close).diff().rolling(period).std() * sqrt(periods_per_year)``.
    Prices must be positive; a non-positive price gives NaN.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period")
    periods_per_year = check_finite(periods_per_year, "periods_per_year")
    if periods_per_year <= 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    scale = math.sqrt(periods_per_year)

    def core(v: FloatArray) -> tuple[FloatArray]:
        out = nan_array(v.size)
        if v.size <= period:
            return (out,)
        with np.errstate(invalid="ignore", divide="ignore"):
            returns = np.log(v[1:] / v[:-1])
        variance = rolling_variance(returns, period)
        variance *= period / (period - 1)  # sample variance (ddof=1), like pandas
        np.sqrt(variance, out=out[period:])
        out[period:] *= scale
        return (out,)

    (out,) = skip_leading_nans(core, x)
    return out
