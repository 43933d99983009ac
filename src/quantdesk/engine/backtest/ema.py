"""EMA crossover strategy: the exponential twin of ``SmaCross`` (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from quantdesk.engine.backtest.bars import Bars, Int8Array
from quantdesk.engine.backtest.strategies import crossover_target
from quantdesk.engine.indicators.moving_averages import ema


@dataclass(frozen=True, slots=True)
class EmaCross:
    """EMA(fast) / EMA(slow) crossover: long after the fast average crosses above the
    slow one, short (flat when long-only) after it crosses below.

    The averages are TA-Lib's ``EMA`` (k = 2 / (period + 1), seeded with the SMA of the
    first ``period`` closes), so the first value of EMA(p) is known at the close of bar
    ``p - 1``; crosses use ``crossover_target`` (strict on both bars, no look-ahead).
    """

    fast: int = 12
    slow: int = 26

    def __post_init__(self) -> None:
        for period in (self.fast, self.slow):
            if isinstance(period, bool) or not isinstance(period, int) or period < 1:
                raise ValueError(f"period must be a positive integer, got {period!r}")

    @property
    def warmup_bars(self) -> int:
        return max(self.fast, self.slow) - 1

    def target(self, bars: Bars) -> Int8Array:
        return crossover_target(ema(bars.close, self.fast), ema(bars.close, self.slow))


__all__ = ["EmaCross"]
