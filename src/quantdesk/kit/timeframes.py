"""Bar timeframes and their calendar arithmetic (pure; no I/O).

Fixed timeframes (1m..1d) bucket by integer division of epoch seconds, which aligns 4h bars to
00:00/04:00/... UTC like every major data vendor. 1w buckets start on Monday 00:00 UTC (ISO
weeks) and 1M buckets on the first of the month; a bucket is labelled by its start.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt

MONDAY_EPOCH_OFFSET = 4 * 86_400  # 1970-01-01 was a Thursday; 1970-01-05 the first Monday


class Timeframe(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"
    W1 = "1w"
    MN1 = "1M"

    @property
    def seconds(self) -> int:
        """Nominal length; exact for everything but 1M (taken as 31 days for ordering)."""
        return _SECONDS[self]

    @property
    def is_calendar(self) -> bool:
        return self in (Timeframe.W1, Timeframe.MN1)

    def can_resample_from(self, source: Timeframe) -> bool:
        """True when whole `source` bars tile every bucket of this timeframe."""
        if source == self:
            return True
        if self is Timeframe.MN1:
            return (
                source.seconds <= Timeframe.D1.seconds
                and Timeframe.D1.seconds % source.seconds == 0
            )
        if self is Timeframe.W1:
            return (
                source.seconds <= Timeframe.D1.seconds
                and Timeframe.D1.seconds % source.seconds == 0
            )
        if source.is_calendar:
            return False
        return self.seconds > source.seconds and self.seconds % source.seconds == 0

    def bucket_starts(self, ts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The start (epoch seconds, UTC) of the bucket each timestamp falls in."""
        if self is Timeframe.MN1:
            months = ts.astype("datetime64[s]").astype("datetime64[M]")
            return months.astype("datetime64[s]").astype(np.int64)
        if self is Timeframe.W1:
            week = 7 * 86_400
            return ts - (ts - MONDAY_EPOCH_OFFSET) % week
        return ts - ts % self.seconds


_SECONDS: dict[Timeframe, int] = {
    Timeframe.M1: 60,
    Timeframe.M5: 300,
    Timeframe.M15: 900,
    Timeframe.M30: 1_800,
    Timeframe.H1: 3_600,
    Timeframe.H4: 14_400,
    Timeframe.D1: 86_400,
    Timeframe.W1: 7 * 86_400,
    Timeframe.MN1: 31 * 86_400,
}
