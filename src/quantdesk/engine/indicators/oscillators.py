"""Momentum oscillators matching TA-Lib: RSI, STOCH, ADX/DI, ROC, CCI, WILLR.

Every value is known at the close of the bar it is aligned with. Wilder-smoothed
indicators (RSI, ADX) use TA-Lib's default unstable period of 0, so their first
values depend on the seed exactly as TA-Lib's do.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators._core import (
    FloatArray,
    as_float_array,
    as_float_arrays,
    check_period,
)
from quantdesk.engine.indicators._jit_oscillators import (
    CCI_CONSTANT,
    adx_kernel,
    cci_kernel,
    roc_kernel,
    rsi_kernel,
    stoch_kernel,
    willr_kernel,
)

__all__ = [
    "CCI_CONSTANT",
    "ADXResult",
    "StochResult",
    "adx",
    "cci",
    "roc",
    "rsi",
    "stoch",
    "willr",
]


class StochResult(NamedTuple):
    """Slow stochastic %K and %D, in percent (0..100)."""

    slowk: FloatArray
    slowd: FloatArray


class ADXResult(NamedTuple):
    """ADX and the directional indicators, in percent (0..100)."""

    adx: FloatArray
    plus_di: FloatArray
    minus_di: FloatArray


def rsi(close: npt.ArrayLike, period: int = 14) -> FloatArray:
    """Relative strength index (Wilder), in percent (TA-Lib ``RSI``).

    The first value, at bar ``period``, uses the simple averages of the first
    ``period`` gains and losses. When both averages are exactly 0 (no change at all)
    the value is 0, as in TA-Lib.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period")
    out = np.empty(x.size)
    rsi_kernel(x, period, out)
    return out


def stoch(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    fastk_period: int = 5,
    slowk_period: int = 3,
    slowd_period: int = 3,
) -> StochResult:
    """Slow stochastic with SMA smoothing (``talib.STOCH`` with matype 0), in percent.

    fast %K = 100 * (close - lowest low) / (highest high - lowest low) over
    ``fastk_period`` bars (0 for a flat window); slow %K = SMA(fast %K, slowk_period);
    slow %D = SMA(slow %K, slowd_period). Both outputs start at bar
    ``fastk_period + slowk_period + slowd_period - 3``, as in TA-Lib.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    fastk_period = check_period(fastk_period, "fastk_period", minimum=1)
    slowk_period = check_period(slowk_period, "slowk_period", minimum=1)
    slowd_period = check_period(slowd_period, "slowd_period", minimum=1)
    slowk, slowd = np.empty(c.size), np.empty(c.size)
    stoch_kernel(h, lo, c, fastk_period, slowk_period, slowd_period, slowk, slowd)
    return StochResult(slowk, slowd)


def adx(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> ADXResult:
    """Average directional index with +DI/-DI (TA-Lib ``ADX``, ``PLUS_DI``, ``MINUS_DI``).

    +DI/-DI start at bar ``period`` (0 while the smoothed true range is 0); ADX starts
    at bar ``2 * period - 1`` with the mean of the first ``period`` DX values. As in
    TA-Lib, a bar whose DX is undefined (flat range or no directional movement)
    leaves ADX unchanged and counts as 0 in the initial mean.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    period = check_period(period, "period")
    adx_line, plus_di, minus_di = np.empty(c.size), np.empty(c.size), np.empty(c.size)
    adx_kernel(h, lo, c, period, adx_line, plus_di, minus_di)
    return ADXResult(adx_line, plus_di, minus_di)


def roc(close: npt.ArrayLike, period: int = 10) -> FloatArray:
    """Rate of change in percent: ``100 * (close / close[period bars ago] - 1)``.

    TA-Lib ``ROC``; first value at bar ``period``; 0 where the old price is 0.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    out = np.empty(x.size)
    roc_kernel(x, period, out)
    return out


def cci(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    """Commodity channel index (TA-Lib ``CCI``), dimensionless.

    ``(tp - mean(tp)) / (0.015 * mean(|tp - mean(tp)|))`` over ``period`` bars with
    the typical price ``tp = (high + low + close) / 3``; first value at bar
    ``period - 1``. 0 when the window is flat relative to its own mean level
    (TA-Lib's scale-aware zero test).

    The window sums are accumulated in TA-Lib's circular-buffer order, so results
    are bit-identical to TA-Lib 0.8's, including on the degenerate windows where
    the rounding order decides between 0 and a value.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    period = check_period(period, "period")
    out = np.empty(c.size)
    cci_kernel(h, lo, c, period, out)
    return out


def willr(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, period: int = 14
) -> FloatArray:
    """Williams %R in percent, from -100 (close at the low) to 0 (TA-Lib ``WILLR``).

    ``-100 * (highest high - close) / (highest high - lowest low)`` over ``period``
    bars; first value at bar ``period - 1``; 0 for a flat window.
    """
    h, lo, c = as_float_arrays(high=high, low=low, close=close)
    period = check_period(period, "period")
    out = np.empty(c.size)
    willr_kernel(h, lo, c, period, out)
    return out
