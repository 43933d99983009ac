"""Streaming moving averages and MACD (O(1) per bar, same values as the batch form)."""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar, Final, NamedTuple

from quantdesk.engine.indicators._core import check_period
from quantdesk.engine.indicators.moving_averages import macd_lookback
from quantdesk.engine.indicators.streaming._base import (
    NAN,
    Bar,
    EMAState,
    RollingSum,
    StreamingIndicator,
    sequential_sum,
)

_RESYNC_PERIODS: Final = 64


class MACDPoint(NamedTuple):
    """One bar of MACD output, in price units."""

    macd: float
    signal: float
    hist: float


class StreamingSMA(StreamingIndicator):
    """Simple moving average of the last ``period`` closes; see ``sma``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 30) -> None:
        self._period = check_period(period, "period", minimum=1)
        self._sum = RollingSum(self._period)

    @property
    def warmup(self) -> int:
        return self._period - 1

    def update(self, value: float) -> float:
        self._sum.push(value)
        return self._sum.total / self._period if self._sum.full else NAN

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.close),)


class StreamingEMA(StreamingIndicator):
    """TA-Lib EMA (SMA-seeded) of the closes; see ``ema``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 30) -> None:
        self._period = check_period(period, "period", minimum=1)
        self._ema = EMAState(self._period)

    @property
    def warmup(self) -> int:
        return self._period - 1

    def update(self, value: float) -> float:
        return self._ema.push(value)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.close),)


class StreamingWMA(StreamingIndicator):
    """Linearly weighted moving average (weights 1..period); see ``wma``.

    Keeps the window sum and the weighted sum: when the window slides every old
    value loses one unit of weight, so ``weighted += period * new - window_sum``.
    """

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 30) -> None:
        self._period = check_period(period, "period", minimum=1)
        self._window: deque[float] = deque()
        self._sum = 0.0
        self._weighted = 0.0
        self._denominator = self._period * (self._period + 1) / 2
        self._until_resync = _RESYNC_PERIODS * self._period

    @property
    def warmup(self) -> int:
        return self._period - 1

    def update(self, value: float) -> float:
        window = self._window
        if len(window) < self._period:
            window.append(value)
            self._weighted += len(window) * value
            self._sum += value
            if len(window) < self._period:
                return NAN
        else:
            self._weighted += self._period * value - self._sum
            self._sum += value - window.popleft()
            window.append(value)
            self._until_resync -= 1
            if self._until_resync <= 0:
                self._resync()
        return self._weighted / self._denominator

    def _resync(self) -> None:
        """Recompute both sums from the window so rounding drift cannot accumulate."""
        self._until_resync = _RESYNC_PERIODS * self._period
        self._sum = sequential_sum(self._window)
        self._weighted = 0.0
        for weight, value in enumerate(self._window, start=1):
            self._weighted += weight * value

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.close),)


class StreamingMACD(StreamingIndicator):
    """MACD exactly as ``talib.MACD``; see ``macd`` for the fast-EMA alignment quirk."""

    outputs: ClassVar[tuple[str, ...]] = ("", "signal", "hist")

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        fast = check_period(fast, "fast")
        slow = check_period(slow, "slow")
        self._signal_period = check_period(signal, "signal", minimum=1)
        if slow < fast:
            fast, slow = slow, fast
        self._fast_period, self._slow_period = fast, slow
        self._recent: deque[float] = deque(maxlen=fast)
        self._count = 0
        self._fast = EMAState(fast)
        self._slow = EMAState(slow)
        self._signal = EMAState(self._signal_period)

    @property
    def warmup(self) -> int:
        return macd_lookback(self._fast_period, self._slow_period, self._signal_period)

    def update(self, value: float) -> MACDPoint:
        self._count += 1
        slow = self._slow.push(value)
        if self._count < self._slow_period:
            self._recent.append(value)
            return MACDPoint(NAN, NAN, NAN)
        if self._count == self._slow_period:
            # TA-Lib seeds the fast EMA at the slow EMA's first bar, with the SMA of
            # the last `fast` values, instead of at bar `fast - 1`.
            self._recent.append(value)
            self._fast.seed(sequential_sum(self._recent) / self._fast_period)
            fast = self._fast.value
        else:
            fast = self._fast.push(value)
        line = fast - slow
        signal = self._signal.push(line)
        if math.isnan(signal):  # the signal EMA is still seeding
            return MACDPoint(NAN, NAN, NAN)
        return MACDPoint(line, signal, line - signal)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return self.update(bar.close)
