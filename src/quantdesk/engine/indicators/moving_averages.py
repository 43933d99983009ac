"""Moving averages and MACD, computed as TA-Lib 0.8 computes them (compiled kernels).

All values are in the input's units (price) and are known at the close of the bar
they are aligned with; nothing looks ahead.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators._core import FloatArray, as_float_array, check_period
from quantdesk.engine.indicators._jit_averages import (
    ema_kernel,
    macd_kernel,
    sma_kernel,
    wma_kernel,
)


class MACDResult(NamedTuple):
    """MACD outputs, each the length of the input (price units)."""

    macd: FloatArray
    signal: FloatArray
    hist: FloatArray


def sma(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Simple moving average of the last ``period`` values (TA-Lib ``SMA``).

    First value at bar ``period - 1``.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    out = np.empty(x.size)
    sma_kernel(x, period, out)
    return out


def ema(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Exponential moving average, k = 2 / (period + 1) (TA-Lib ``EMA``).

    Seeded, like TA-Lib, with the SMA of the first ``period`` values, so the first
    value is at bar ``period - 1``; TA-Lib's default unstable period (0) applies.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    out = np.empty(x.size)
    ema_kernel(x, period, out)
    return out


def wma(close: npt.ArrayLike, period: int = 30) -> FloatArray:
    """Linearly weighted moving average, weights 1..period (TA-Lib ``WMA``).

    The newest bar has weight ``period``; first value at bar ``period - 1``.
    """
    x = as_float_array(close, "close")
    period = check_period(period, "period", minimum=1)
    out = np.empty(x.size)
    wma_kernel(x, period, out)
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
    line, signal_line, hist = np.empty(x.size), np.empty(x.size), np.empty(x.size)
    macd_kernel(x, fast, slow, signal, line, signal_line, hist)
    return MACDResult(line, signal_line, hist)
