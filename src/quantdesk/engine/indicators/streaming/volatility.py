"""Streaming volatility indicators: ATR, Bollinger Bands, rolling volatility."""

from __future__ import annotations

import math
from typing import ClassVar, NamedTuple

from quantdesk.engine.indicators._core import check_finite, check_period
from quantdesk.engine.indicators.streaming._base import (
    NAN,
    Bar,
    RollingSum,
    RollingVariance,
    StreamingIndicator,
    WilderAverage,
)


class BBandsPoint(NamedTuple):
    """One bar of Bollinger Bands, in price units."""

    upper: float
    middle: float
    lower: float


class StreamingATR(StreamingIndicator):
    """Average true range (Wilder), in price units; see ``atr``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 14) -> None:
        self._period = check_period(period, "period", minimum=1)
        self._close = NAN
        self._seen = False
        self._average = WilderAverage(self._period)

    @property
    def warmup(self) -> int:
        return self._period

    def update(self, high: float, low: float, close: float) -> float:
        if not self._seen:
            self._seen = True
            self._close = close
            return NAN
        true_range = max(high - low, abs(self._close - high), abs(self._close - low))
        self._close = close
        return self._average.push(true_range)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.high, bar.low, bar.close),)


class StreamingBBands(StreamingIndicator):
    """Bollinger Bands around an SMA; see ``bbands``."""

    outputs: ClassVar[tuple[str, ...]] = ("upper", "middle", "lower")

    def __init__(self, period: int = 5, nbdev_up: float = 2.0, nbdev_dn: float = 2.0) -> None:
        self._period = check_period(period, "period")
        self._nbdev_up = check_finite(nbdev_up, "nbdev_up")
        self._nbdev_dn = check_finite(nbdev_dn, "nbdev_dn")
        self._sum = RollingSum(self._period)
        self._variance = RollingVariance(self._period)

    @property
    def warmup(self) -> int:
        return self._period - 1

    def update(self, value: float) -> BBandsPoint:
        self._sum.push(value)
        variance = self._variance.push(value)
        if not self._sum.full:
            return BBandsPoint(NAN, NAN, NAN)
        middle = self._sum.total / self._period
        sigma = math.sqrt(variance)
        if self._nbdev_up == self._nbdev_dn:
            width = sigma * self._nbdev_up
            return BBandsPoint(middle + width, middle, middle - width)
        return BBandsPoint(middle + sigma * self._nbdev_up, middle, middle - sigma * self._nbdev_dn)

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return self.update(bar.close)


class StreamingVolatility(StreamingIndicator):
    """Annualized rolling stdev of log returns (ddof=1); see ``rolling_volatility``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, period: int = 20, periods_per_year: float = 252.0) -> None:
        self._period = check_period(period, "period")
        periods_per_year = check_finite(periods_per_year, "periods_per_year")
        if periods_per_year <= 0:
            raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
        self._scale = math.sqrt(periods_per_year)
        self._correction = self._period / (self._period - 1)
        self._close = NAN
        self._seen = False
        self._variance = RollingVariance(self._period)

    @property
    def warmup(self) -> int:
        return self._period

    def update(self, close: float) -> float:
        if not self._seen:
            self._seen = True
            self._close = close
            return NAN
        previous, self._close = self._close, close
        ratio = close / previous if previous > 0.0 else NAN
        log_return = math.log(ratio) if ratio > 0.0 else NAN
        variance = self._variance.push(log_return)
        return math.sqrt(variance * self._correction) * self._scale

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.close),)
