"""Streaming volume indicators: on-balance volume and VWAP."""

from __future__ import annotations

from typing import ClassVar

from quantdesk.engine.indicators._core import check_period
from quantdesk.engine.indicators.streaming._base import (
    NAN,
    Bar,
    RollingSum,
    StreamingIndicator,
)


class StreamingOBV(StreamingIndicator):
    """On-balance volume, in volume units; see ``obv``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self) -> None:
        self._close = NAN
        self._total = 0.0
        self._started = False

    @property
    def warmup(self) -> int:
        return 0

    def update(self, close: float, volume: float) -> float:
        if not self._started:  # the first bar starts the total at its volume
            self._started = True
            self._total = volume
        elif close > self._close:
            self._total += volume
        elif close < self._close:
            self._total -= volume
        self._close = close
        return self._total

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.close, bar.volume),)


class StreamingVWAP(StreamingIndicator):
    """Volume-weighted typical price, cumulative or over a window; see ``vwap``."""

    outputs: ClassVar[tuple[str, ...]] = ("",)

    def __init__(self, window: int | None = None) -> None:
        self._window = None if window is None else check_period(window, "window", minimum=1)
        self._price_volume = 0.0
        self._volume = 0.0
        size = self._window or 1
        self._rolling_price_volume = RollingSum(size)
        self._rolling_volume = RollingSum(size)

    @property
    def warmup(self) -> int:
        return 0 if self._window is None else self._window - 1

    def update(self, high: float, low: float, close: float, volume: float) -> float:
        weighted = (high + low + close) / 3 * volume
        if self._window is None:
            self._price_volume += weighted
            self._volume += volume
            price_volume, total_volume = self._price_volume, self._volume
        else:
            self._rolling_price_volume.push(weighted)
            self._rolling_volume.push(volume)
            if not self._rolling_volume.full:
                return NAN
            price_volume = self._rolling_price_volume.total
            total_volume = self._rolling_volume.total
        return price_volume / total_volume if total_volume > 0.0 else NAN

    def update_bar(self, bar: Bar) -> tuple[float, ...]:
        return (self.update(bar.high, bar.low, bar.close, bar.volume),)
