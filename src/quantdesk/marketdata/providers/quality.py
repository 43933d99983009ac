"""Data quality of one fetch (pure: arrays in, kept rows + report + rejected rows out).

Bars are checked for out-of-order rows (sorted, counted), duplicate timestamps (first kept),
invalid rows (non-finite or non-positive prices, OHLC inconsistencies, negative volume),
outliers (a close that jumps more than `outlier_sigma` robust sigmas away from *both*
neighbours and back: a spike, not a genuine level shift), gaps against the expected calendar
and staleness. Rejected rows are quarantined with their reason; the good rows are kept.

Quality score (0..1; None for an empty fetch), stored with the fetch:

    score = validity x completeness x orderliness x freshness
    validity     = kept rows / received rows
    completeness = 1 - missing bars / expected bars on the calendar (between first and last)
    orderliness  = 1 - out-of-order rows / received rows
    freshness    = 0.5 when stale, else 1
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from quantdesk.kit.timeframes import MONDAY_EPOCH_OFFSET, Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.providers.base import Calendar

DAY = 86_400
WEEK = 7 * DAY
Mask = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class QualitySettings:
    outlier_sigma: float = 8.0
    # Latest bar older than this many bars (plus a weekend for weekday calendars): stale.
    stale_bars: int = 3
    fx_stale_days: float = 4.0  # ECB publishes on TARGET business days only
    quote_stale_seconds: float = 3_600.0
    # Below this score a fetch counts as failed and the chain asks the next provider.
    min_score: float = 0.0


@dataclass(frozen=True)
class Rejected:
    reason: str
    row: dict[str, Any]
    ts: int | None = None


@dataclass(frozen=True)
class QualityReport:
    rows: int
    kept: int
    expected: int
    duplicates: int = 0
    out_of_order: int = 0
    invalid: int = 0
    outliers: int = 0
    gaps: int = 0
    stale: bool = False
    score: float | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "score", quality_score(self))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def quality_score(report: QualityReport) -> float | None:
    if report.rows == 0:
        return None
    validity = report.kept / report.rows
    completeness = 1.0 - report.gaps / report.expected if report.expected else 1.0
    orderliness = 1.0 - report.out_of_order / report.rows
    freshness = 0.5 if report.stale else 1.0
    return round(validity * completeness * orderliness * freshness, 4)


def json_number(value: float) -> float | str:
    """JSON has no NaN/Infinity (PostgreSQL rejects them): say them as strings."""
    return value if math.isfinite(value) else str(value)


def bar_row(frame: BarFrame, index: int) -> dict[str, Any]:
    return {
        "ts": int(frame.ts[index]),
        "open": json_number(float(frame.open[index])),
        "high": json_number(float(frame.high[index])),
        "low": json_number(float(frame.low[index])),
        "close": json_number(float(frame.close[index])),
        "volume": json_number(float(frame.volume[index])),
    }


def count_out_of_order(ts: IntArray) -> int:
    """Rows earlier than a row before them (a duplicate is not out of order)."""
    if ts.shape[0] < 2:
        return 0
    running_max = np.maximum.accumulate(ts)
    return int(np.count_nonzero(ts[1:] < running_max[:-1]))


def duplicate_mask(sorted_ts: IntArray, keep: Mask | None = None) -> Mask:
    """True for every row (among `keep`) whose timestamp equals the previous kept row's: the
    first one is kept."""
    mask = np.zeros(sorted_ts.shape[0], dtype=bool)
    rows = np.flatnonzero(keep) if keep is not None else np.arange(sorted_ts.shape[0])
    if rows.shape[0] > 1:
        stamps = sorted_ts[rows]
        mask[rows[1:][stamps[1:] == stamps[:-1]]] = True
    return mask


def invalid_bar_reasons(frame: BarFrame) -> list[str | None]:
    o, h, low, c, v = frame.open, frame.high, frame.low, frame.close, frame.volume
    reasons: list[str | None] = [None] * len(frame)
    with np.errstate(invalid="ignore"):
        checks: Sequence[tuple[Mask, str]] = (
            (
                ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(low) & np.isfinite(c)),
                "non-finite price",
            ),
            ((o <= 0) | (h <= 0) | (low <= 0) | (c <= 0), "non-positive price"),
            (h < low, "high below low"),
            (h < np.maximum(o, c), "high below max(open, close)"),
            (low > np.minimum(o, c), "low above min(open, close)"),
            (~np.isfinite(v) | (v < 0), "negative or non-finite volume"),
        )
    for mask, reason in checks:
        for index in np.flatnonzero(mask):
            if reasons[index] is None:
                reasons[index] = reason
    return reasons


def spike_mask(values: FloatArray, sigma: float) -> Mask:
    """Interior points more than `sigma` robust standard deviations (1.4826 x MAD of the log
    changes) away from both neighbours, in the same direction."""
    n = values.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n < 5 or sigma <= 0 or np.any(values <= 0):
        return mask
    logs = np.log(values)
    changes = np.diff(logs)
    scale = 1.4826 * float(np.median(np.abs(changes - np.median(changes))))
    if scale == 0:
        scale = float(np.std(changes))
    if scale == 0:
        return mask
    threshold = sigma * scale
    up = logs[1:-1] - logs[:-2]
    down = logs[1:-1] - logs[2:]
    mask[1:-1] = (
        (np.abs(up) > threshold) & (np.abs(down) > threshold) & (np.sign(up) == np.sign(down))
    )
    return mask


def _weekday(ts: IntArray) -> IntArray:
    return ((ts // DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0


def expected_bars(ts: IntArray, timeframe: Timeframe, calendar: Calendar) -> tuple[int, int]:
    """(expected bars between the first and last kept bar, how many of those are missing)."""
    if ts.shape[0] == 0:
        return 0, 0
    first, last = int(ts[0]), int(ts[-1])
    if timeframe.is_calendar:
        if timeframe is Timeframe.W1:
            buckets = (ts - MONDAY_EPOCH_OFFSET) // WEEK
        else:
            buckets = ts.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
        expected = int(buckets[-1] - buckets[0] + 1)
        return expected, expected - int(np.unique(buckets).shape[0])
    step = timeframe.seconds
    if calendar is Calendar.SESSIONS and step < DAY:
        days = ts // DAY
        starts = np.flatnonzero(np.concatenate(([True], days[1:] != days[:-1])))
        firsts = ts[starts]
        lasts = ts[np.concatenate((starts[1:] - 1, [ts.shape[0] - 1]))]
        expected = int(np.sum((lasts - firsts) // step + 1))
        return expected, max(0, expected - int(ts.shape[0]))
    grid = np.arange(first, last + 1, step, dtype=np.int64)
    if calendar is not Calendar.ALWAYS:
        grid = grid[_weekday(grid) < 5]
    missing = np.setdiff1d(grid, ts, assume_unique=True).shape[0]
    return int(grid.shape[0]), int(missing)


def is_stale(last_ts: int, *, now: float, max_age: float, calendar: Calendar) -> bool:
    if calendar is not Calendar.ALWAYS:
        max_age += 2 * DAY  # a weekend is not staleness
    return now - last_ts > max_age


@dataclass(frozen=True)
class CheckedBars:
    frame: BarFrame
    report: QualityReport
    rejected: list[Rejected]


def check_bars(
    frame: BarFrame,
    *,
    timeframe: Timeframe,
    calendar: Calendar,
    wants_latest: bool,
    now: float,
    settings: QualitySettings,
) -> CheckedBars:
    rows = len(frame)
    out_of_order = count_out_of_order(frame.ts)
    ordered = frame.select(np.argsort(frame.ts, kind="stable"))
    rejected: list[Rejected] = []
    keep = np.ones(rows, dtype=bool)

    def reject(mask: Mask, reason: str) -> int:
        hits = np.flatnonzero(mask & keep)
        for index in hits:
            rejected.append(Rejected(reason, bar_row(ordered, int(index)), int(ordered.ts[index])))
        keep[hits] = False
        return int(hits.shape[0])

    # Invalid rows go first, so a duplicate pair keeps its valid member.
    invalid = 0
    for index, reason in enumerate(invalid_bar_reasons(ordered)):
        if reason is not None:
            rejected.append(Rejected(reason, bar_row(ordered, index), int(ordered.ts[index])))
            keep[index] = False
            invalid += 1
    duplicates = reject(duplicate_mask(ordered.ts, keep), "duplicate timestamp")
    candidates = np.flatnonzero(keep)
    spikes = np.zeros(rows, dtype=bool)
    spikes[candidates] = spike_mask(ordered.close[candidates], settings.outlier_sigma)
    outliers = reject(spikes, f"outlier: close jumps beyond {settings.outlier_sigma:g} sigma")
    kept = ordered.select(keep)
    expected, gaps = expected_bars(kept.ts, timeframe, calendar)
    stale = bool(
        wants_latest
        and len(kept)
        and is_stale(
            int(kept.ts[-1]),
            now=now,
            max_age=settings.stale_bars * timeframe.seconds,
            calendar=calendar,
        )
    )
    report = QualityReport(
        rows=rows,
        kept=len(kept),
        expected=expected,
        duplicates=duplicates,
        out_of_order=out_of_order,
        invalid=invalid,
        outliers=outliers,
        gaps=gaps,
        stale=stale,
    )
    rejected.sort(key=lambda item: item.ts if item.ts is not None else 0)
    return CheckedBars(kept, report, rejected)
