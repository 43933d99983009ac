"""Where a signal ends: target hit, stopped or expired, judged against the bars after it.

A signal lives ``lifetime`` bars of its timeframe: market time, never the wall clock.
``resolve`` scans the closed bars that follow the signal bar, in time order, the way the
backtest engine treats a stop-loss / take-profit (``quantdesk.engine.backtest.config``):

* only the first ``lifetime`` bars after the signal bar count;
* a long is stopped in the first bar whose low reaches the stop and hits its target in the
  first bar whose high reaches the target (short: high reaches the stop, low the target);
* intrabar order is unknown, so when one bar touches both, the stop counts (the
  conservative reading);
* a bar that opens beyond a level settles at its open (a gap is not filled at the level);
* with neither level touched, the signal expires on its ``lifetime``-th bar and settles at
  that bar's close; with fewer bars than that it is still active, however old it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from quantdesk.engine.signals.bars import FloatArray
from quantdesk.engine.signals.base import Direction


class Outcome(StrEnum):
    ACTIVE = "active"
    TARGET_HIT = "target_hit"
    STOPPED = "stopped"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Resolution:
    """``bar`` indexes the deciding bar in the arrays given (None while active); ``price`` is
    what the signal settled at. A settled signal always has both."""

    outcome: Outcome
    bar: int | None = None
    price: float | None = None

    @property
    def bars_held(self) -> int | None:
        """Bars from the signal bar to the settling one (1: the next bar settled it)."""
        return None if self.bar is None else self.bar + 1


def resolve(
    *,
    direction: Direction,
    target: float,
    stop: float,
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    lifetime: int,
) -> Resolution:
    """The outcome of one signal given the closed bars after its signal bar, oldest first.

    Only the first ``lifetime`` bars count (more may be passed); ``lifetime`` >= 1.
    """
    if lifetime < 1:
        raise ValueError(f"lifetime must be at least 1 bar, got {lifetime}")
    counted = min(lifetime, int(close.size))
    high, low, open_ = high[:counted], low[:counted], open[:counted]
    if direction is Direction.LONG:
        stopped, reached = low <= stop, high >= target
    else:
        stopped, reached = high >= stop, low <= target
    touched = stopped | reached
    if touched.any():
        bar = int(np.argmax(touched))
        gap = open_[bar]
        if stopped[bar]:
            # Beyond the stop at the open: the trade is out at the open, worse than the stop.
            price = min(gap, stop) if direction is Direction.LONG else max(gap, stop)
            return Resolution(Outcome.STOPPED, bar, float(price))
        price = max(gap, target) if direction is Direction.LONG else min(gap, target)
        return Resolution(Outcome.TARGET_HIT, bar, float(price))
    if counted == lifetime:
        return Resolution(Outcome.EXPIRED, lifetime - 1, float(close[lifetime - 1]))
    return Resolution(Outcome.ACTIVE)


def settled_return(direction: Direction, entry: float, price: float) -> float:
    """The signal's return from ``entry`` to the settling ``price``, as a fraction: ``price /
    entry - 1`` for a long, ``1 - price / entry`` for a short."""
    return (price / entry - 1.0) if direction is Direction.LONG else (1.0 - price / entry)
