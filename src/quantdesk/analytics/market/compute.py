"""One instrument's figures for the snapshot: its last complete daily session, the change from
the session before, and indicator values computed by the engine (pure: arrays in, a frozen
dataclass out).

A session is a UTC calendar day. A daily bar of today (UTC) or later is still forming and is
left out, so the answer only moves when a session completes: on a Saturday or a Sunday the last
complete session is Friday's, whatever the hour. Intraday bars are first aggregated to days
(open first, high max, low min, close last, volume summed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

from quantdesk.engine.indicators.moving_averages import sma
from quantdesk.engine.indicators.oscillators import rsi
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.resample import resample

DAY = 86_400
RSI_PERIOD = 14
FloatArray = npt.NDArray[np.float64]
SMA_PERIODS = (50, 200)


@dataclass(frozen=True)
class SessionFigures:
    session: date
    price: float
    previous_close: float | None
    change: float | None
    change_pct: float | None
    open: float
    high: float
    low: float
    volume: float
    turnover: float
    rsi_14: float | None
    sma_50: float | None
    sma_200: float | None
    sma_50_distance_pct: float | None
    sma_200_distance_pct: float | None


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _distance_pct(price: float, average: float | None) -> float | None:
    if average is None or average == 0:
        return None
    return (price / average - 1.0) * 100.0


def _last(values: FloatArray, period: int) -> float | None:
    return _finite(float(values[-1])) if values.size > period - 1 else None


def session_figures(frame: BarFrame, timeframe: Timeframe, *, today: date) -> SessionFigures | None:
    """The figures of the last session that ended before `today` (UTC), or None without one."""
    if timeframe is not Timeframe.D1:
        frame = resample(frame, Timeframe.D1)
    cutoff = int(datetime(today.year, today.month, today.day, tzinfo=UTC).timestamp())
    complete = int(np.searchsorted(frame.ts, cutoff, side="left"))
    if complete == 0:
        return None
    close = frame.close[:complete]
    last = complete - 1
    price = float(close[last])
    previous = float(close[last - 1]) if last > 0 else None
    change = price - previous if previous is not None else None
    change_pct = change / previous * 100.0 if change is not None and previous else None
    rsi_value = _last(rsi(close, RSI_PERIOD), RSI_PERIOD + 1) if close.size > RSI_PERIOD else None
    averages = [_last(sma(close, period), period) for period in SMA_PERIODS]
    volume = float(frame.volume[last])
    return SessionFigures(
        session=datetime.fromtimestamp(int(frame.ts[last]), UTC).date(),
        price=price,
        previous_close=previous,
        change=change,
        change_pct=change_pct,
        open=float(frame.open[last]),
        high=float(frame.high[last]),
        low=float(frame.low[last]),
        volume=volume,
        turnover=price * volume,
        rsi_14=rsi_value,
        sma_50=averages[0],
        sma_200=averages[1],
        sma_50_distance_pct=_distance_pct(price, averages[0]),
        sma_200_distance_pct=_distance_pct(price, averages[1]),
    )
