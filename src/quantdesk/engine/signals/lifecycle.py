"""Where a signal ends: target hit, stopped or expired, judged against the bars after it.

``resolve`` scans the bars that follow the signal bar, in time order, the way the backtest
engine treats a stop-loss / take-profit (``quantdesk.engine.backtest.config``):

* a long is stopped in the first bar whose low reaches the stop and hits its target in the
  first bar whose high reaches the target (short: high reaches the stop, low the target);
* intrabar order is unknown, so when one bar touches both, the stop counts (the
  conservative reading);
* a bar that opens beyond a level settles at its open (a gap is not filled at the level);
* only bars that open before ``expires_at`` count; once ``now`` reaches ``expires_at``
  with neither level touched the signal has expired, settling at the last counted close.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from quantdesk.engine.signals.bars import FloatArray
from quantdesk.engine.signals.base import Direction


class Outcome(StrEnum):
    ACTIVE = "active"
    TARGET_HIT = "target_hit"
    STOPPED = "stopped"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Resolution:
    """``bar`` indexes the deciding bar in the arrays given (None: none decided)."""

    outcome: Outcome
    bar: int | None = None
    price: float | None = None


def resolve(
    *,
    direction: Direction,
    target: float,
    stop: float,
    ts: npt.NDArray[np.int64],
    open: FloatArray,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    expires_at: int,
    now: int,
) -> Resolution:
    """The outcome of one signal given the closed bars after its signal bar.

    ``ts`` are bar open times (epoch seconds, ascending); ``expires_at`` and ``now`` are
    epoch seconds. The caller passes only bars after the signal bar that have closed.
    """
    counted = int(np.searchsorted(ts, expires_at, side="left"))
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
    if now >= expires_at:
        if counted == 0:
            return Resolution(Outcome.EXPIRED)
        return Resolution(Outcome.EXPIRED, counted - 1, float(close[counted - 1]))
    return Resolution(Outcome.ACTIVE)
