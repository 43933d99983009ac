"""Settling one signal against the bars after it: the database-facing side of
`engine.signals.resolve` (stop before target inside a bar, gaps fill at the open, expiry)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quantdesk.engine.signals import Direction, Outcome, resolve
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch, to_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import Signal, SignalDirection, SignalStatus


def bar_close_times(ts: npt.NDArray[np.int64], timeframe: Timeframe) -> npt.NDArray[np.int64]:
    """When each bar (open time ``ts``) closes: the next bucket's start for 1M (calendar
    months), ``ts + length`` for every other timeframe."""
    if timeframe is Timeframe.MN1:
        months = ts.astype("datetime64[s]").astype("datetime64[M]") + 1
        return months.astype("datetime64[s]").astype(np.int64)
    return ts + timeframe.seconds


def _to_direction(direction: SignalDirection) -> Direction:
    return Direction.LONG if direction is SignalDirection.LONG else Direction.SHORT


def settle(signal: Signal, bars: BarFrame, closes: npt.NDArray[np.int64], now_ts: int) -> None:
    after = bars.ts > signal.source_ts
    later, later_closes = bars.select(after), closes[after]
    resolution = resolve(
        direction=_to_direction(signal.direction),
        target=signal.target,
        stop=signal.stop,
        ts=later.ts,
        open=later.open,
        high=later.high,
        low=later.low,
        close=later.close,
        expires_at=to_epoch(signal.expires_at),
        now=now_ts,
    )
    if resolution.outcome is Outcome.ACTIVE:
        return
    signal.status = SignalStatus(resolution.outcome.value)
    signal.close_price = resolution.price
    if resolution.outcome is Outcome.EXPIRED or resolution.bar is None:
        signal.closed_at = signal.expires_at
    else:
        signal.closed_at = from_epoch(int(later_closes[resolution.bar]))
