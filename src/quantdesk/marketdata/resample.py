"""OHLCV resampling to a coarser timeframe (pure numpy).

Aggregation: open = first, high = max, low = min, close = last, volume = sum, each bucket
labelled by its start (see kit.timeframes for bucket alignment). Runs in O(n) with
`ufunc.reduceat` over bucket boundaries; input must be sorted by time (bars always are).
"""

from __future__ import annotations

import numpy as np

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame


def resample(frame: BarFrame, target: Timeframe) -> BarFrame:
    if len(frame) == 0:
        return frame
    keys = target.bucket_starts(frame.ts)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(keys)) + 1))
    ends = np.concatenate((starts[1:], [len(frame)])) - 1
    return BarFrame(
        ts=keys[starts],
        open=frame.open[starts],
        high=np.maximum.reduceat(frame.high, starts),
        low=np.minimum.reduceat(frame.low, starts),
        close=frame.close[ends],
        volume=np.add.reduceat(frame.volume, starts),
    )
