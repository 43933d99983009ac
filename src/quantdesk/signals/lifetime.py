"""How long a signal lives, in bars of its timeframe (market time, never the wall clock).

`signals_expiry_bars` is the default; `signals_lifetime_bars` overrides it per
"strategy:timeframe", "strategy" or "timeframe" (the most specific key wins). Each signal
stores its own lifetime, so changing the settings never moves a signal already stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch

if TYPE_CHECKING:
    from quantdesk.config import Settings


def lifetime_bars(settings: Settings, strategy: str, timeframe: Timeframe) -> int:
    """Bars a new signal of `strategy` on `timeframe` lives."""
    overrides = settings.signals_lifetime_bars
    for key in (f"{strategy}:{timeframe.value}", strategy, timeframe.value):
        if key in overrides:
            return overrides[key]
    return settings.signals_expiry_bars


def nominal_expiry(source_ts: int, timeframe: Timeframe, bars: int) -> datetime:
    """When the `bars`-th bar after the source bar (open time `source_ts`) would close if the
    market never paused: calendar months for 1M, whole bar lengths otherwise. Informative
    only: the signal expires when that many bars exist, later when the market closes
    (weekends, holidays)."""
    if timeframe is Timeframe.MN1:
        month = np.datetime64(source_ts, "s").astype("datetime64[M]") + 1 + bars
        return from_epoch(int(month.astype("datetime64[s]").astype(np.int64)))
    return from_epoch(source_ts + (bars + 1) * timeframe.seconds)
