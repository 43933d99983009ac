"""How old market data is, against the wall clock: `meta.age_seconds` and `meta.stale`.

A value is stale when more than `STALE_AFTER_INTERVALS` of its expected update intervals of
*market time* have passed since its time (`as_of`). Market time is the hours the asset class
trades: crypto every hour (24/7); FX, equities, indices and funds weekdays only (Saturday and
Sunday UTC do not count), so a Friday close read on Monday is not stale.

Expected update interval:

* a quote: one hour for crypto and FX (they trade around the clock), one trading day for
  equities, indices and funds (at least a daily close);
* bars: the bar timeframe (a calendar month counts 31 days), at least one trading day for
  equities, indices and funds, whose sessions leave overnight gaps.

`age_seconds` is plain wall-clock seconds since `as_of` (never negative). The clock is
`wall_clock`, the real time; tests swap it with `use_clock`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import AssetClass

STALE_AFTER_INTERVALS = 3
DAY = 86_400
WEEK = 7 * DAY
HOUR = 3_600
# 1970-01-01 (epoch 0) was a Thursday: epoch days since the Monday before it.
_MONDAY_OFFSET = 3 * DAY

Clock = Callable[[], float]

_clock: Clock = time.time


def wall_clock() -> float:
    """Now, Unix seconds (the clock `use_clock` set, else the real one)."""
    return _clock()


@contextmanager
def use_clock(clock: Clock) -> Iterator[None]:
    """Serve freshness against `clock` inside the block (tests)."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield
    finally:
        _clock = previous


def trades_weekends(asset_class: AssetClass | str) -> bool:
    return AssetClass(asset_class) is AssetClass.CRYPTO


def weekday_seconds(start: int, end: int) -> int:
    """Seconds of [start, end) that fall on Monday-Friday UTC."""
    if end <= start:
        return 0

    def upto(t: int) -> int:  # weekday seconds in [first Monday before epoch, t)
        weeks, rest = divmod(t + _MONDAY_OFFSET, WEEK)
        return weeks * 5 * DAY + min(rest, 5 * DAY)

    return upto(end) - upto(start)


def quote_interval(asset_class: AssetClass | str) -> int:
    if AssetClass(asset_class) in (AssetClass.CRYPTO, AssetClass.FX):
        return HOUR
    return DAY


def bars_interval(asset_class: AssetClass | str, timeframe: Timeframe) -> int:
    if AssetClass(asset_class) in (AssetClass.CRYPTO, AssetClass.FX):
        return timeframe.seconds
    return max(timeframe.seconds, DAY)


@dataclass(frozen=True, slots=True)
class Freshness:
    age_seconds: int
    stale: bool


def freshness(as_of: int, *, interval: int, weekends: bool, now: float) -> Freshness:
    """Age and staleness of a value stamped `as_of` (Unix seconds), updated every `interval`
    seconds of market time (`weekends`: the market counts Saturday and Sunday)."""
    current = int(now)
    market = current - as_of if weekends else weekday_seconds(as_of, current)
    return Freshness(max(0, current - as_of), market > STALE_AFTER_INTERVALS * interval)
