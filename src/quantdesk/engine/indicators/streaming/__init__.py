"""Streaming (bar-by-bar) forms of the batch indicators.

Each class consumes one bar per ``update`` call and returns that bar's value(s),
NaN during warm-up; fed the same history, the outputs equal the batch functions'
(to ~1e-12). ``update_bar`` takes a :class:`Bar` and returns a tuple in the
order of the class's ``outputs``, which is what the registry uses.
"""

from quantdesk.engine.indicators.streaming._base import Bar, StreamingIndicator
from quantdesk.engine.indicators.streaming.oscillators import (
    ADXPoint,
    StochPoint,
    StreamingADX,
    StreamingCCI,
    StreamingROC,
    StreamingRSI,
    StreamingStoch,
    StreamingWillR,
)
from quantdesk.engine.indicators.streaming.trend import (
    MACDPoint,
    StreamingEMA,
    StreamingMACD,
    StreamingSMA,
    StreamingWMA,
)
from quantdesk.engine.indicators.streaming.volatility import (
    BBandsPoint,
    StreamingATR,
    StreamingBBands,
    StreamingVolatility,
)
from quantdesk.engine.indicators.streaming.volume import StreamingOBV, StreamingVWAP

__all__ = [
    "ADXPoint",
    "BBandsPoint",
    "Bar",
    "MACDPoint",
    "StochPoint",
    "StreamingADX",
    "StreamingATR",
    "StreamingBBands",
    "StreamingCCI",
    "StreamingEMA",
    "StreamingIndicator",
    "StreamingMACD",
    "StreamingOBV",
    "StreamingROC",
    "StreamingRSI",
    "StreamingSMA",
    "StreamingStoch",
    "StreamingVWAP",
    "StreamingVolatility",
    "StreamingWMA",
    "StreamingWillR",
]
