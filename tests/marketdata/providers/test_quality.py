"""Data-quality checks on tiny bar scenarios: what is kept, quarantined (and why), scored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.providers.base import Calendar, FxRates, NewsItem, Quote, Series
from quantdesk.marketdata.providers.quality import (
    QualityReport,
    QualitySettings,
    check_bars,
    expected_bars,
    spike_mask,
)
from quantdesk.marketdata.providers.quality_kinds import (
    check_fx,
    check_news,
    check_quote,
    check_series,
)
from tests.support.factories import START_2024, synthetic_bars

DAY = 86_400
SETTINGS = QualitySettings(outlier_sigma=8.0, stale_bars=3)
NOW = START_2024 + 30 * DAY


def bars(count: int = 20, step: int = DAY) -> BarFrame:
    return synthetic_bars(count, step=step, seed=3)


def with_row(frame: BarFrame, index: int, **values: float) -> BarFrame:
    columns = {
        name: getattr(frame, name).copy()
        for name in ("ts", "open", "high", "low", "close", "volume")
    }
    for name, value in values.items():
        columns[name][index] = value
    return BarFrame(**columns)


def body_middle(frame: BarFrame, index: int) -> float:
    """A high inside the candle body: below max(open, close), still above the low."""
    return float((frame.open[index] + frame.close[index]) / 2)


def drop(frame: BarFrame, index: int) -> BarFrame:
    keep = np.ones(len(frame), dtype=bool)
    keep[index] = False
    return frame.select(keep)


def duplicate(frame: BarFrame, index: int) -> BarFrame:
    order = np.insert(np.arange(len(frame)), index + 1, index)
    return frame.select(order)


def swap(frame: BarFrame, first: int, second: int) -> BarFrame:
    order = np.arange(len(frame))
    order[[first, second]] = order[[second, first]]
    return frame.select(order)


def spike(frame: BarFrame, index: int, factor: float) -> BarFrame:
    close = frame.close[index] * factor
    return with_row(frame, index, close=close, high=max(close, frame.high[index]))


def level_shift(frame: BarFrame, index: int, factor: float) -> BarFrame:
    scale = np.ones(len(frame))
    scale[index:] = factor
    return BarFrame(
        frame.ts,
        frame.open * scale,
        frame.high * scale,
        frame.low * scale,
        frame.close * scale,
        frame.volume,
    )


Scenario = tuple[str, Callable[[BarFrame], BarFrame], dict[str, object], list[str]]

SCENARIOS: list[Scenario] = [
    ("clean", lambda f: f, {"kept": 20, "score": 1.0}, []),
    (
        "duplicate timestamp",
        lambda f: duplicate(f, 5),
        {"rows": 21, "kept": 20, "duplicates": 1, "score": round(20 / 21, 4)},
        ["duplicate timestamp"],
    ),
    (
        "out of order rows are sorted, not dropped",
        lambda f: swap(f, 4, 5),
        {"kept": 20, "out_of_order": 1, "score": 0.95},
        [],
    ),
    (
        "high below close",
        lambda f: with_row(f, 7, high=body_middle(f, 7)),
        {"kept": 19, "invalid": 1},
        ["high below max(open, close)"],
    ),
    (
        "non-finite close",
        lambda f: with_row(f, 3, close=np.nan),
        {"kept": 19},
        ["non-finite price"],
    ),
    (
        "negative volume",
        lambda f: with_row(f, 9, volume=-5.0),
        {"kept": 19},
        ["negative or non-finite volume"],
    ),
    ("non-positive price", lambda f: with_row(f, 2, low=0.0), {"kept": 19}, ["non-positive price"]),
    (
        "a spike is an outlier",
        lambda f: spike(f, 10, 3.0),
        {"kept": 19, "outliers": 1},
        ["outlier: close jumps beyond 8 sigma"],
    ),
    (
        "a genuine level shift is kept",
        lambda f: level_shift(f, 10, 0.5),
        {"kept": 20, "outliers": 0},
        [],
    ),
    (
        "a missing bar is a gap",
        lambda f: drop(f, 6),
        {"rows": 19, "kept": 19, "expected": 20, "gaps": 1, "score": 0.95},
        [],
    ),
]


@pytest.mark.parametrize(
    ("name", "mutate", "expected", "reasons"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_bar_quality_scenarios(
    name: str,
    mutate: Callable[[BarFrame], BarFrame],
    expected: dict[str, object],
    reasons: list[str],
) -> None:
    frame = mutate(bars())
    checked = check_bars(
        frame,
        timeframe=Timeframe.D1,
        calendar=Calendar.ALWAYS,
        wants_latest=False,
        now=NOW,
        settings=SETTINGS,
    )
    report = checked.report.as_dict()
    for key, value in expected.items():
        assert report[key] == value, key
    assert [item.reason for item in checked.rejected] == reasons
    kept = checked.frame
    assert np.all(np.diff(kept.ts) > 0)  # what is kept is always strictly increasing
    assert len(kept) == report["kept"]


def test_a_quarantined_row_keeps_its_values_as_json() -> None:
    checked = check_bars(
        with_row(bars(), 3, close=np.nan),
        timeframe=Timeframe.D1,
        calendar=Calendar.ALWAYS,
        wants_latest=False,
        now=NOW,
        settings=SETTINGS,
    )
    (row,) = checked.rejected
    assert row.ts == START_2024 + 3 * DAY
    assert row.row["close"] == "nan" and row.row["ts"] == row.ts
    assert isinstance(row.row["open"], float)


def test_stale_latest_bars_halve_the_score() -> None:
    frame = bars(10)  # ends 2024-01-10; NOW is 2024-01-31
    common = {
        "timeframe": Timeframe.D1,
        "calendar": Calendar.ALWAYS,
        "now": NOW,
        "settings": SETTINGS,
    }
    stale = check_bars(frame, wants_latest=True, **common)  # type: ignore[arg-type]
    assert stale.report.stale and stale.report.score == 0.5
    # Asking for a past range is not asking for fresh data.
    past = check_bars(frame, wants_latest=False, **common)  # type: ignore[arg-type]
    assert not past.report.stale and past.report.score == 1.0


def test_weekday_calendar_does_not_count_weekends_as_gaps() -> None:
    monday = START_2024  # 2024-01-01 was a Monday
    days = np.array([monday + d * DAY for d in range(14) if d % 7 < 5], dtype=np.int64)
    assert expected_bars(days, Timeframe.D1, Calendar.WEEKDAYS) == (10, 0)
    assert expected_bars(days, Timeframe.D1, Calendar.ALWAYS) == (12, 2)
    assert expected_bars(np.delete(days, 3), Timeframe.D1, Calendar.WEEKDAYS) == (10, 1)


def test_session_calendar_counts_only_holes_inside_traded_days() -> None:
    hour = 3_600
    day1 = [START_2024 + 14 * hour + h * hour for h in (0, 1, 2, 4)]  # 17:00 missing
    day2 = [START_2024 + DAY + 14 * hour + h * hour for h in range(3)]
    ts = np.array(day1 + day2, dtype=np.int64)
    assert expected_bars(ts, Timeframe.H1, Calendar.SESSIONS) == (8, 1)


def test_monthly_bars_gap_by_calendar_month() -> None:
    months = np.array(["2024-01-31", "2024-02-29", "2024-04-30"], dtype="datetime64[s]").astype(
        np.int64
    )
    assert expected_bars(months, Timeframe.MN1, Calendar.ALWAYS) == (4, 1)


def test_spike_needs_both_neighbours() -> None:
    values = np.array([100, 101, 100, 102, 101, 100, 300.0])  # a jump on the last row
    assert not spike_mask(values, 8.0).any()


def test_an_empty_fetch_has_no_score() -> None:
    assert QualityReport(rows=0, kept=0, expected=0).score is None


def test_series_missing_values_and_duplicates_are_quarantined() -> None:
    ts = np.array([3 * DAY, DAY, 2 * DAY, 2 * DAY, 4 * DAY], dtype=np.int64)
    values = np.array([3.0, 1.0, np.nan, 2.0, 4.0])
    assessed = check_series(Series("CPI", ts, values), spikes=False, settings=SETTINGS)
    assert assessed.value.ts.tolist() == [DAY, 2 * DAY, 3 * DAY, 4 * DAY]
    # The NaN row goes as missing; its valid twin on the same date is kept.
    assert assessed.value.values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert [r.reason for r in assessed.rejected] == ["missing or non-finite value"]
    assert assessed.report.out_of_order == 3  # 1, 2 and 2 all come after 3


def test_fx_rates_lose_bad_rates_and_go_stale() -> None:
    rates = FxRates("EUR", START_2024, {"USD": 1.09, "XXX": float("nan"), "YYY": -1.0})
    fresh = check_fx(rates, now=START_2024 + DAY, settings=SETTINGS)
    assert fresh.value.rates == {"USD": 1.09}
    assert sorted(r.row["currency"] for r in fresh.rejected) == ["XXX", "YYY"]
    assert not fresh.report.stale
    old = check_fx(rates, now=START_2024 + 10 * DAY, settings=SETTINGS)
    assert old.report.stale


def test_a_crossed_quote_is_rejected() -> None:
    quote = Quote("AAPL", price=181.18, ts=START_2024, bid=181.3, ask=181.2)
    assessed = check_quote(quote, now=START_2024, settings=SETTINGS)
    assert assessed.report.kept == 0
    assert assessed.rejected[0].reason == "crossed quote: bid above ask"
    good = check_quote(replace(quote, bid=181.1), now=START_2024, settings=SETTINGS)
    assert good.report.kept == 1 and good.report.score == 1.0


def test_news_is_deduplicated_and_needs_a_title() -> None:
    items = [
        NewsItem("a", "First", None, 10, "wire"),
        NewsItem("b", "Second", None, 20, "wire"),
        NewsItem("a", "First again", None, 10, "wire"),
        NewsItem("c", "  ", None, 5, "wire"),
    ]
    assessed = check_news(items)
    assert [item.id for item in assessed.value] == ["b", "a"]  # newest first
    assert sorted(r.reason for r in assessed.rejected) == [
        "duplicate news item",
        "news item without a title",
    ]
