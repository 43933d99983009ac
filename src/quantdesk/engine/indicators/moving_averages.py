"""Moving averages and MACD with TA-Lib's conventions (values within ~1e-12 relative).

All values are in the input's units (price) and are known at the close of the bar
they are aligned with; nothing looks ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators._core import (
    FloatArray,
    as_float_array,
    check_period,
    nan_array,
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


def ema_into(x: FloatArray, period: int, seed: float, out: FloatArray) -> None:
    """Write the EMA after ``seed`` into ``out``: ``y[t] = y[t-1] + k * (x[t] - y[t-1])``."""
    k = 2.0 / (period + 1)
    linear_recurrence(x, 1.0 - k, seed, scale=k, out=out)


def ema_series(x: FloatArray, period: int) -> FloatArray:
    """TA-Lib EMA over ``x``: NaN before bar ``period - 1``, which holds the SMA seed."""
    out = nan_array(x.size)
    if x.size >= period:
        seed = sequential_sum(x[:period]) / period
        out[period - 1] = seed
        ema_into(x[period:], period, seed, out[period:])
    return out


def _rolling(
    kernel: Callable[[FloatArray, int, FloatArray], FloatArray], x: FloatArray, period: int
) -> FloatArray:
    """Run a valid-part rolling kernel straight into a NaN-prefixed output."""
    out = nan_array(x.size)
    if x.size >= period:
        kernel(x, period, out[period - 1 :])
    return out


def sma(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Simple moving average of the last ``period`` values (TA-Lib ``SMA``).

    First value at bar ``period - 1``.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    (out,) = skip_leading_nans(lambda v: (_rolling(rolling_mean, v, period),), x)
    return out


def ema(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Exponential moving average, k = 2 / (period + 1) (TA-Lib ``EMA``).

    Seeded, like TA-Lib, with the SMA of the first ``period`` values, so the first
    value is at bar ``period - 1``; TA-Lib's default unstable period (0) applies.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    (out,) = skip_leading_nans(lambda v: (ema_series(v, period),), x)
    return out


def wma(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Linearly weighted moving average, weights 1..period (TA-Lib ``WMA``).

    The newest bar has weight ``period``; first value at bar ``period - 1``.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    (out,) = skip_leading_nans(lambda v: (_rolling(rolling_weighted_mean, v, period),), x)
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
        start = macd_lookback(fast, slow, signal)
        line, signal_line = nan_array(size), nan_array(size)
        if size <= start:
            return line, signal_line, nan_array(size)
        # Both EMAs from bar slow-1 on; the fast one is seeded there (TA-Lib quirk).
        slow_ema = ema_series(v, slow)[slow - 1 :]
        fast_ema = np.empty(size - slow + 1)
        fast_ema[0] = sequential_sum(v[slow - fast : slow]) / fast
        ema_into(v[slow:], fast, fast_ema[0], fast_ema[1:])
        difference = np.subtract(fast_ema, slow_ema, out=fast_ema)  # the MACD line
        signal_line[slow - 1 :] = ema_series(difference, signal)
        line[start:] = difference[signal - 1 :]
        return line, signal_line, line - signal_line

    line, signal_line, hist = skip_leading_nans(core, x)
    return MACDResult(line, signal_line, hist)
