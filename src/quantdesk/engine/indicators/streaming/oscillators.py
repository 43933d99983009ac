"""Streaming oscillators: RSI, stochastic, ADX/DI, ROC, CCI, Williams %R.

Each update is O(1) (amortized for the rolling extremes) except CCI, whose mean
absolute deviation has to revisit the window: O(period) per bar, like TA-Lib.
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar, NamedTuple

from quantdesk.engine.indicators._core import TA_EPSILON, check_period
from quantdesk.engine.indicators.oscillators import CCI_CONSTANT
from quantdesk.engine.indicators.streaming._base import (
    NAN,
    Bar,
    RollingExtreme,
    RollingSum,
    StreamingIndicator,
    WilderAverage,
)


class StochPoint(NamedTuple):
    """One bar of slow stochastic output, in percent."""

    slowk: float
    slowd: float


class ADXPoint(NamedTuple):
    """One bar of ADX output, in percent."""

    adx: float
    plus_di: float
    minus_di: float


def _is_flat(width: float, highest: float, lowest: float) -> bool:
    """TA-Lib's scale-aware zero test on a high-low range."""
    return abs(width) <= TA_EPSILON * (abs(highest) + abs(lowest))


class StreamingRSI(StreamingIndicator):
    """Wilder RSI of the closes; see ``rsi``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 14) -> None:
        self._period = check_period(period, "period")
        self._previous = NAN
        self._seen = False
        self._gain = WilderAverage(self._period)
        self._loss = WilderAverage(self._period)

    @property
    def warmup(self) -> int:
        return self._period

    def update(self, value: float) -> float:
        if not self._seen:
            self._seen = True
            self._previous = value
            return NAN
        change = value - self._previous
        self._previous = value
        gain = self._gain.push(change if change > 0.0 else 0.0)
        loss = self._loss.push(-change if change < 0.0 else 0.0)
        total = gain + loss
        if math.isnan(total):  # still averaging the first period
            return NAN
        return 100.0 * (gain / total) if total > 0.0 else 0.0

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.close),)


class StreamingStoch(StreamingIndicator):
    """Slow stochastic %K/%D with SMA smoothing; see ``stoch``."""

    outputs: ClassVar[tuple[str, ...]] = ("k", "d")

    def __init__(self, fastk_period: int = 5, slowk_period: int = 3, slowd_period: int = 3) -> None:
        self._fastk_period = check_period(fastk_period, "fastk_period", minimum=1)
        self._slowk_period = check_period(slowk_period, "slowk_period", minimum=1)
        self._slowd_period = check_period(slowd_period, "slowd_period", minimum=1)
        self._highest = RollingExtreme(self._fastk_period, maximum=True)
        self._lowest = RollingExtreme(self._fastk_period, maximum=False)
        self._slowk = RollingSum(self._slowk_period)
        self._slowd = RollingSum(self._slowd_period)
        self._count = 0

    @property
    def warmup(self) -> int:
        return self._fastk_period + self._slowk_period + self._slowd_period - 3

    def update(self, high: float, low: float, close: float) -> StochPoint:
        self._count += 1
        highest = self._highest.push(high)
        lowest = self._lowest.push(low)
        if self._count < self._fastk_period:
            return StochPoint(NAN, NAN)
        width = highest - lowest
        fastk = 0.0 if _is_flat(width, highest, lowest) else (close - lowest) / (width / 100.0)
        self._slowk.push(fastk)
        if not self._slowk.full:
            return StochPoint(NAN, NAN)
        slowk = self._slowk.total / self._slowk_period
        self._slowd.push(slowk)
        if not self._slowd.full:
            return StochPoint(NAN, NAN)
        return StochPoint(slowk, self._slowd.total / self._slowd_period)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return self.update(bar.high, bar.low, bar.close)


class StreamingADX(StreamingIndicator):
    """ADX with +DI/-DI, TA-Lib's algorithm one bar at a time; see ``adx``."""

    outputs: ClassVar[tuple[str, ...]] = ("", "plus_di", "minus_di")

    def __init__(self, period: int = 14) -> None:
        self._period = check_period(period, "period")
        self._count = 0
        self._high = self._low = self._close = NAN
        self._plus_dm = self._minus_dm = self._range = 0.0
        self._dx_sum = 0.0
        self._adx = NAN

    @property
    def warmup(self) -> int:
        return 2 * self._period - 1

    def update(self, high: float, low: float, close: float) -> ADXPoint:
        period = self._period
        index = self._count
        self._count += 1
        if index == 0:
            self._high, self._low, self._close = high, low, close
            return ADXPoint(NAN, NAN, NAN)
        up = high - self._high
        down = self._low - low
        plus_dm = up if up > 0.0 and up > down else 0.0
        minus_dm = down if down > 0.0 and down > up else 0.0
        true_range = max(high - low, abs(self._close - high), abs(self._close - low))
        self._high, self._low, self._close = high, low, close
        if index < period:
            # The first period-1 one-bar values are summed, not smoothed.
            self._plus_dm += plus_dm
            self._minus_dm += minus_dm
            self._range += true_range
            return ADXPoint(NAN, NAN, NAN)
        self._plus_dm = self._plus_dm - self._plus_dm / period + plus_dm
        self._minus_dm = self._minus_dm - self._minus_dm / period + minus_dm
        self._range = self._range - self._range / period + true_range
        plus_di = minus_di = dx = 0.0
        has_dx = False
        if self._range > 0.0:
            plus_di = 100.0 * (self._plus_dm / self._range)
            minus_di = 100.0 * (self._minus_dm / self._range)
            di_sum = minus_di + plus_di
            if not abs(di_sum) < TA_EPSILON:
                dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
                has_dx = True
        if index < 2 * period - 1:
            # An undefined DX counts as 0 in the initial mean, as in TA-Lib.
            self._dx_sum += dx
        elif index == 2 * period - 1:
            self._adx = (self._dx_sum + dx) / period
        elif has_dx:  # a bar without a DX leaves the ADX unchanged
            self._adx = (self._adx * (period - 1) + dx) / period
        return ADXPoint(self._adx, plus_di, minus_di)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return self.update(bar.high, bar.low, bar.close)


class StreamingROC(StreamingIndicator):
    """Rate of change in percent over ``period`` bars; see ``roc``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 10) -> None:
        self._period = check_period(period, "period", minimum=1)
        self._window: deque[float] = deque(maxlen=self._period + 1)

    @property
    def warmup(self) -> int:
        return self._period

    def update(self, value: float) -> float:
        self._window.append(value)
        if len(self._window) <= self._period:
            return NAN
        previous = self._window[0]
        return (value / previous - 1.0) * 100.0 if previous != 0.0 else 0.0

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.close),)


class StreamingCCI(StreamingIndicator):
    """Commodity channel index; see ``cci``.

    O(period) per bar: the mean absolute deviation is taken around the *current*
    window mean, so it cannot be updated incrementally. The window is kept in
    TA-Lib's circular-buffer order and summed the same way, so the values are
    bit-identical to the batch form (and to TA-Lib).
    """

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 14) -> None:
        self._period = check_period(period, "period")
        self._buffer = [0.0] * self._period
        self._slot = 0
        self._count = 0

    @property
    def warmup(self) -> int:
        return self._period - 1

    def update(self, high: float, low: float, close: float) -> float:
        typical = (high + low + close) / 3
        self._buffer[self._slot] = typical
        self._slot = (self._slot + 1) % self._period
        self._count += 1
        if self._count < self._period:
            return NAN
        total = 0.0
        for value in self._buffer:
            total += value
        mean = total / self._period
        deviation = 0.0
        for value in self._buffer:
            deviation += abs(value - mean)
        deviation /= self._period
        offset = typical - mean
        level = TA_EPSILON * abs(mean)
        if abs(offset) <= level or abs(deviation) <= level:
            return 0.0
        return offset / (CCI_CONSTANT * deviation)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.high, bar.low, bar.close),)


class StreamingWillR(StreamingIndicator):
    """Williams %R in percent (-100..0); see ``willr``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 14) -> None:
        self._period = check_period(period, "period")
        self._highest = RollingExtreme(self._period, maximum=True)
        self._lowest = RollingExtreme(self._period, maximum=False)
        self._count = 0

    @property
    def warmup(self) -> int:
        return self._period - 1

    def update(self, high: float, low: float, close: float) -> float:
        self._count += 1
        highest = self._highest.push(high)
        lowest = self._lowest.push(low)
        if self._count < self._period:
            return NAN
        width = highest - lowest
        if _is_flat(width, highest, lowest):
            return 0.0
        return (highest - close) / (width / -100.0)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.high, bar.low, bar.close),)
