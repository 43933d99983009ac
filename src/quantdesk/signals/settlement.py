"""Settling signals against the bars after them: the database-facing side of
`engine.signals.resolve` (market time: a signal lives `lifetime_bars` bars, stop before
target inside a bar, gaps fill at the open, expiry at the close of its last bar)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from quantdesk.engine.signals import Direction, Outcome, Resolution, resolve, settled_return
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import Signal, SignalDirection, SignalStatus


def bar_close_times(ts: npt.NDArray[np.int64], timeframe: Timeframe) -> npt.NDArray[np.int64]:
    """When each bar (open time ``ts``) closes: the next bucket's start for 1M (calendar
    months), ``ts + length`` for every other timeframe."""
    if timeframe is Timeframe.MN1:
        months = ts.astype("datetime64[s]").astype("datetime64[M]") + 1
        return months.astype("datetime64[s]").astype(np.int64)
    return ts + timeframe.seconds


def to_direction(direction: SignalDirection) -> Direction:
    return Direction.LONG if direction is SignalDirection.LONG else Direction.SHORT


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a signal ended: the columns a settled signal stores."""

    status: SignalStatus
    close_price: float
    closed_at: datetime
    bars_held: int
    settled_return: float

    @classmethod
    def of(
        cls,
        resolution: Resolution,
        *,
        direction: Direction,
        entry: float,
        closes: npt.NDArray[np.int64],
    ) -> Settlement | None:
        """None while active; `closes` are the close times of the bars given to `resolve`."""
        if resolution.outcome is Outcome.ACTIVE or resolution.bar is None:
            return None
        if resolution.price is None:  # resolve gives every settled signal its price
            raise ValueError(f"{resolution.outcome} without a price")
        return cls(
            status=SignalStatus(resolution.outcome.value),
            close_price=resolution.price,
            closed_at=from_epoch(int(closes[resolution.bar])),
            bars_held=resolution.bar + 1,
            settled_return=settled_return(direction, entry, resolution.price),
        )

    def columns(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "close_price": self.close_price,
            "closed_at": self.closed_at,
            "bars_held": self.bars_held,
            "settled_return": self.settled_return,
        }

    def apply(self, signal: Signal) -> None:
        for name, value in self.columns().items():
            setattr(signal, name, value)


def settle(signal: Signal, bars: BarFrame, closes: npt.NDArray[np.int64]) -> None:
    """Settle `signal` against `bars` (closed bars of its timeframe, close times `closes`)
    if its level was touched or its lifetime has run out; otherwise leave it active."""
    after = bars.ts > signal.source_ts
    later = bars.select(after)
    direction = to_direction(signal.direction)
    resolution = resolve(
        direction=direction,
        target=signal.target,
        stop=signal.stop,
        open=later.open,
        high=later.high,
        low=later.low,
        close=later.close,
        lifetime=signal.lifetime_bars,
    )
    settlement = Settlement.of(
        resolution, direction=direction, entry=signal.entry, closes=closes[after]
    )
    if settlement is not None:
        settlement.apply(signal)
