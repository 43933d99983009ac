"""Building blocks of the streaming indicators: the bar type, the base class, and
O(1)-per-update rolling state (sums, extremes, EMA/Wilder averages, variance).

All state lives in instances; nothing here is shared between indicators.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from typing import ClassVar, Final, NamedTuple

NAN: Final = math.nan

#: Recompute running sums from the window after this many periods of updates, so
#: rounding drift stays bounded on endless streams (amortized O(1)).
_RESYNC_PERIODS: Final = 64


class Bar(NamedTuple):
    """One OHLCV bar, as seen at its close."""

    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


class StreamingIndicator(ABC):
    """An indicator fed one bar at a time.

    ``update_bar`` returns the values for the bar just closed, in the order of
    ``outputs`` (NaN during warm-up). Values are final once returned: a bar is only
    fed at its close, and nothing is revised later.
    """

    outputs: ClassVar[tuple[str, ...]]

    @property
    @abstractmethod
    def warmup(self) -> int:
        """Bars before every output has a value.

        Some outputs start earlier (ADX's DIs), and VWAP is also NaN while no volume
        has traded; the batch form has NaN at exactly the same bars.
        """

    @abstractmethod
    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        """Consume the next bar and return this bar's output values."""


def sequential_sum(values: deque[float] | list[float]) -> float:
    """Left-to-right sum (matches the batch seeds' order; ``sum`` may compensate)."""
    total = 0.0
    for value in values:
        total += value
    return total


class RollingSum:
    """Sum of the last ``period`` values.

    The total is kept incrementally; it is exactly 0 whenever the window holds only
    zeros (so "no volume" is detected reliably), and is recomputed from the window
    every few thousand updates so that rounding drift cannot accumulate.
    """

    __slots__ = ("_nonzero", "_period", "_total", "_until_resync", "_window")

    def __init__(self, period: int) -> None:
        self._period = period
        self._window: deque[float] = deque()
        self._total = 0.0
        self._nonzero = 0
        self._until_resync = _RESYNC_PERIODS * period

    @property
    def full(self) -> bool:
        return len(self._window) == self._period

    @property
    def total(self) -> float:
        return self._total

    @property
    def window(self) -> deque[float]:
        return self._window

    def push(self, value: float) -> None:
        self._window.append(value)
        self._total += value
        self._nonzero += value != 0.0
        if len(self._window) > self._period:
            old = self._window.popleft()
            self._total -= old
            self._nonzero -= old != 0.0
        self._until_resync -= 1
        if self._nonzero == 0:
            self._total = 0.0
        elif self._until_resync <= 0:
            self._total = sequential_sum(self._window)
            self._until_resync = _RESYNC_PERIODS * self._period


class RollingExtreme:
    """Maximum (or minimum) of the last ``period`` values via a monotonic deque.

    Amortized O(1): every value is appended and removed at most once.
    """

    __slots__ = ("_candidates", "_count", "_maximum", "_period")

    def __init__(self, period: int, *, maximum: bool) -> None:
        self._period = period
        self._maximum = maximum
        self._count = 0
        self._candidates: deque[tuple[int, float]] = deque()

    def push(self, value: float) -> float:
        """Add ``value`` and return the extreme of the (possibly partial) window."""
        candidates = self._candidates
        if self._maximum:
            while candidates and candidates[-1][1] <= value:
                candidates.pop()
        else:
            while candidates and candidates[-1][1] >= value:
                candidates.pop()
        candidates.append((self._count, value))
        if candidates[0][0] <= self._count - self._period:
            candidates.popleft()
        self._count += 1
        return candidates[0][1]


class EMAState:
    """TA-Lib EMA: the SMA of the first ``period`` values, then ``k = 2/(period+1)``."""

    __slots__ = ("_count", "_k", "_period", "_sum", "value")

    def __init__(self, period: int) -> None:
        self._period = period
        self._k = 2.0 / (period + 1)
        self._count = 0
        self._sum = 0.0
        self.value = NAN

    def seed(self, value: float) -> None:
        """Start the recursion from ``value`` (MACD seeds its fast EMA late)."""
        self._count = self._period
        self.value = value

    def push(self, value: float) -> float:
        if self._count < self._period:
            self._sum += value
            self._count += 1
            if self._count == self._period:
                self.value = self._sum / self._period
            return self.value
        self.value = (value - self.value) * self._k + self.value
        return self.value


class WilderAverage:
    """Wilder smoothing: the mean of the first ``period`` values, then
    ``avg = (avg * (period - 1) + x) / period``."""

    __slots__ = ("_count", "_period", "_sum", "value")

    def __init__(self, period: int) -> None:
        self._period = period
        self._count = 0
        self._sum = 0.0
        self.value = NAN

    def push(self, value: float) -> float:
        if self._count < self._period:
            self._sum += value
            self._count += 1
            if self._count == self._period:
                self.value = self._sum / self._period
            return self.value
        self.value = (self.value * (self._period - 1) + value) / self._period
        return self.value


class RollingVariance:
    """Population variance of the last ``period`` values, TA-Lib's streaming scheme.

    Sums of values shifted by a reference point are updated incrementally; when the
    variance cancels more than six digits against them (or every 32 periods) the
    window is re-centred on its mean and summed afresh, so flat stretches give
    exactly 0 and long streams do not drift.
    """

    __slots__ = ("_inv", "_period", "_shift", "_sum1", "_sum2", "_until_reseed", "_window")

    def __init__(self, period: int) -> None:
        self._period = period
        self._inv = 1.0 / period
        self._window: deque[float] = deque(maxlen=period)
        self._shift = NAN
        self._sum1 = 0.0
        self._sum2 = 0.0
        self._until_reseed = 32 * period

    def push(self, value: float) -> float:
        """Add ``value``; return the variance once ``period`` values were seen, else NaN."""
        window = self._window
        if not window:
            self._shift = value
        window.append(value)
        offset = value - self._shift
        self._sum1 += offset
        self._sum2 += offset * offset
        if len(window) < self._period:
            return NAN
        mean = self._sum1 * self._inv
        variance = self._sum2 * self._inv - mean * mean
        # Drop the oldest value now: the totals then cover the next window's overlap.
        trailing = window[0] - self._shift
        self._sum1 -= trailing
        trailing *= trailing
        self._sum2 -= trailing
        self._until_reseed -= 1
        if (
            variance < 1e-6 * (self._sum2 * self._inv)
            or trailing > 1e6 * self._sum2
            or self._until_reseed <= 0
        ):
            variance = self._reseed()
        # Rounding can leave a tiny negative residue; a variance is never negative.
        return max(variance, 0.0)

    def _reseed(self) -> float:
        window = self._window
        self._until_reseed = 32 * self._period
        self._shift = sequential_sum(window) * self._inv
        sum1 = 0.0
        sum2 = 0.0
        for value in window:
            offset = value - self._shift
            sum1 += offset
            sum2 += offset * offset
        mean = sum1 * self._inv
        variance = sum2 * self._inv - mean * mean
        if variance < 1e-12 * (sum2 * self._inv):
            variance = 0.0
        trailing = window[0] - self._shift
        self._sum1 = sum1 - trailing
        self._sum2 = sum2 - trailing * trailing
        return variance
