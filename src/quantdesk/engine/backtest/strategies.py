"""Pure signal functions: price columns in, target positions out, no look-ahead.

A target series holds, for every bar, the position wanted from that bar's close on
(+1 long, 0 flat, -1 short). It uses only data up to and including that close; the
simulator acts on it at the next open (or at that close with ``fill="close"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from quantdesk.engine.backtest import _kernels
from quantdesk.engine.backtest.bars import Bars, FloatArray, Int8Array


def sma(close: FloatArray, period: int) -> FloatArray:
    """Simple moving average of the last ``period`` closes; NaN for the first
    ``period - 1`` bars; value ``i`` is known at the close of bar ``i``.

    A running window sum, re-summed from scratch every 4096 bars so rounding cannot
    accumulate (agrees with pandas' ``rolling(period).mean()`` to ~1e-13 relative).
    """
    _check_period(period)
    values = np.ascontiguousarray(close, dtype=np.float64)
    result: FloatArray = _kernels.rolling_mean(values, int(period))
    return result


def crossover_target(fast: FloatArray, slow: FloatArray) -> Int8Array:
    """+1 from each bar where ``fast`` crosses above ``slow``, -1 from each cross below.

    A cross at bar ``i`` is ``fast[i-1] < slow[i-1] and fast[i] > slow[i]`` (and the
    mirror): backtesting.py's ``crossover``, strict on both bars, so touching without
    crossing is not a signal and NaN warm-up bars never signal. 0 before the first
    cross.
    """
    a = np.ascontiguousarray(fast, dtype=np.float64)
    b = np.ascontiguousarray(slow, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("fast and slow must be 1-D arrays of the same length")
    out = np.empty(a.size, dtype=np.int8)
    result: Int8Array = _kernels.cross_target(a, b, out)
    return result


def sma_cross(close: FloatArray, fast: int, slow: int) -> Int8Array:
    """Target of an SMA(fast) / SMA(slow) crossover: long after the fast average
    crosses above the slow one, short (flat when long-only) after it crosses below."""
    return crossover_target(sma(close, fast), sma(close, slow))


class Strategy(Protocol):
    """A strategy spec: parameters in a frozen dataclass, ``target`` computes positions."""

    @property
    def warmup_bars(self) -> int:
        """Bars before the first one at which the strategy can signal (its indicators'
        NaN warm-up); buy-and-hold is measured from this bar, as in backtesting.py."""
        ...

    def target(self, bars: Bars) -> Int8Array: ...


@dataclass(frozen=True, slots=True)
class SmaCross:
    """SMA(fast) / SMA(slow) crossover, backtesting.py's ``SmaCross`` example."""

    fast: int = 10
    slow: int = 20

    def __post_init__(self) -> None:
        _check_period(self.fast)
        _check_period(self.slow)

    @property
    def warmup_bars(self) -> int:
        return max(self.fast, self.slow) - 1

    def target(self, bars: Bars) -> Int8Array:
        return sma_cross(bars.close, self.fast, self.slow)


def _check_period(period: int) -> None:
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < 1:
        raise ValueError(f"period must be a positive integer, got {period!r}")
