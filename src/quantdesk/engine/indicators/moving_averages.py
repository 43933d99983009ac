"""Moving averages and MACD, bit-for-bit TA-Lib conventions (values to ~1e-12).

All values are in the input's units (price) and are known at the close of the bar
they are aligned with; nothing looks ahead.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators._core import (
    FloatArray,
    as_float_array,
    check_period,
    nan_array,
    place,
    sequential_sum,
    skip_leading_nans,
)
from quantdesk.engine.indicators._kernels import (
    linear_recurrence,
    rolling_mean,
    rolling_weighted_mean,
)


class MACDResult(NamedTuple):
    """MACD outputs, each the length of the input (price units)."""

    macd: FloatArray
    signal: FloatArray
    hist: FloatArray


def ema_from_seed(x: FloatArray, period: int, seed: float) -> FloatArray:
    """EMA values after a seed: ``y[t] = y[t-1] + k * (x[t] - y[t-1])``, k = 2/(period+1)."""
    k = 2.0 / (period + 1)
    return linear_recurrence(k * x, 1.0 - k, seed)


def ema_valid(x: FloatArray, period: int) -> FloatArray:
    """TA-Lib EMA from its first value (bar ``period - 1``, the SMA seed) onwards."""
    if x.size < period:
        return np.empty(0, dtype=np.float64)
    seed = sequential_sum(x[:period]) / period
    return np.concatenate(([seed], ema_from_seed(x[period:], period, seed)))


def sma(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Simple moving average of the last ``period`` values (TA-Lib ``SMA``).

    First value at bar ``period - 1``.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    (out,) = skip_leading_nans(lambda v: (place(rolling_mean(v, period), v.size),), x)
    return out


def ema(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Exponential moving average, k = 2 / (period + 1) (TA-Lib ``EMA``).

    Seeded, like TA-Lib, with the SMA of the first ``period`` values, so the first
    value is at bar ``period - 1``; TA-Lib's default unstable period (0) applies.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    (out,) = skip_leading_nans(lambda v: (place(ema_valid(v, period), v.size),), x)
    return out


def wma(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Linearly weighted moving average, weights 1..period (TA-Lib ``WMA``).

    The newest bar has weight ``period``; first value at bar ``period - 1``.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    (out,) = skip_leading_nans(lambda v: (place(rolling_weighted_mean(v, period), v.size),), x)
    return out


def macd_lookback(fast: int, slow: int, signal: int) -> int:
    """Number of leading NaN bars of :func:`macd` (after TA-Lib's fast/slow swap)."""
    return max(fast, slow) - 1 + signal - 1


def macd(close: npt.ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> MACDResult:
    """Moving average convergence/divergence exactly as ``talib.MACD``.

    * ``macd`` = EMA(fast) - EMA(slow), ``signal`` = EMA(signal) of ``macd``,
      ``hist`` = ``macd - signal``; all in price units.
    * TA-Lib quirk replicated: the fast EMA does not start at bar ``fast - 1`` but is
      seeded at bar ``slow - 1`` with the SMA of the ``fast`` values ending there,
      aligned with the slow EMA. Its values therefore differ from ``ema(close, fast)``.
    * All three outputs start at bar ``slow + signal - 2`` (33 for 12/26/9), even
      though the MACD line itself is computable earlier - this is TA-Lib's output.
    * As in TA-Lib, ``fast`` and ``slow`` are swapped if ``slow < fast``.
    """
    x = as_float_array(close, "close")
    fast = check_period(fast, "fast")
    slow = check_period(slow, "slow")
    signal = check_period(signal, "signal", minimum=1)
    if slow < fast:
        fast, slow = slow, fast

    def core(v: FloatArray) -> tuple[FloatArray, ...]:
        size = v.size
        if size <= macd_lookback(fast, slow, signal):
            return nan_array(size), nan_array(size), nan_array(size)
        slow_line = ema_valid(v, slow)
        fast_seed = sequential_sum(v[slow - fast : slow]) / fast
        fast_line = np.concatenate(([fast_seed], ema_from_seed(v[slow:], fast, fast_seed)))
        line = fast_line - slow_line
        signal_line = ema_valid(line, signal)
        line = line[signal - 1 :]
        return place(line, size), place(signal_line, size), place(line - signal_line, size)

    line, signal_line, hist = skip_leading_nans(core, x)
    return MACDResult(line, signal_line, hist)
