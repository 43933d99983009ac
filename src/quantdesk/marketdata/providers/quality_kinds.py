"""Quality checks for every kind, behind one entry point the chain calls: `assess`.

Bars get the full treatment (quality.py). Dated series (economic series, fund NAVs) are
checked for order, duplicate dates and missing values (FRED publishes "." for them); NAVs
also for spikes. FX rates lose non-positive or non-finite rates and are stale after
`fx_stale_days`; a quote is invalid when its price is not positive or its bid is above its
ask; news items need a title and are deduplicated by id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar, cast

import numpy as np

from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.providers.base import (
    BarsQuery,
    Fundamentals,
    FundNavQuery,
    FxRates,
    NewsItem,
    Query,
    Quote,
    Series,
)
from quantdesk.marketdata.providers.quality import (
    DAY,
    QualityReport,
    QualitySettings,
    Rejected,
    check_bars,
    count_out_of_order,
    duplicate_mask,
    json_number,
    spike_mask,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Assessed(Generic[T]):
    value: T
    report: QualityReport
    rejected: list[Rejected]


def check_series(series: Series, *, spikes: bool, settings: QualitySettings) -> Assessed[Series]:
    rows = len(series)
    out_of_order = count_out_of_order(series.ts)
    ordered = series.select(np.argsort(series.ts, kind="stable"))
    keep = np.ones(rows, dtype=bool)
    rejected: list[Rejected] = []

    def reject(mask: np.ndarray[Any, np.dtype[np.bool_]], reason: str) -> int:
        hits = np.flatnonzero(mask & keep)
        for index in hits:
            ts = int(ordered.ts[index])
            row = {"ts": ts, "value": json_number(float(ordered.values[index]))}
            rejected.append(Rejected(reason, row, ts))
        keep[hits] = False
        return int(hits.shape[0])

    # Missing values go first, so a duplicate pair keeps its valid member.
    invalid = reject(~np.isfinite(ordered.values), "missing or non-finite value")
    duplicates = reject(duplicate_mask(ordered.ts, keep), "duplicate date")
    outliers = 0
    if spikes:
        candidates = np.flatnonzero(keep)
        mask = np.zeros(rows, dtype=bool)
        mask[candidates] = spike_mask(ordered.values[candidates], settings.outlier_sigma)
        outliers = reject(mask, f"outlier: jumps beyond {settings.outlier_sigma:g} sigma")
    kept = ordered.select(keep)
    report = QualityReport(
        rows=rows,
        kept=len(kept),
        expected=len(kept),
        duplicates=duplicates,
        out_of_order=out_of_order,
        invalid=invalid,
        outliers=outliers,
    )
    return Assessed(kept, report, rejected)


def check_fx(rates: FxRates, *, now: float, settings: QualitySettings) -> Assessed[FxRates]:
    kept: dict[str, float] = {}
    rejected: list[Rejected] = []
    for currency, rate in rates.rates.items():
        if math.isfinite(rate) and rate > 0:
            kept[currency] = rate
        else:
            row = {"base": rates.base, "currency": currency, "rate": json_number(rate)}
            rejected.append(Rejected("non-positive or non-finite rate", row, rates.as_of))
    stale = now - rates.as_of > settings.fx_stale_days * DAY
    report = QualityReport(
        rows=len(rates.rates),
        kept=len(kept),
        expected=len(kept),
        invalid=len(rejected),
        stale=stale,
    )
    return Assessed(replace(rates, rates=kept), report, rejected)


def quote_problem(quote: Quote) -> str | None:
    if not math.isfinite(quote.price) or quote.price <= 0:
        return "non-positive or non-finite price"
    if quote.bid is not None and quote.ask is not None and quote.bid > quote.ask:
        return "crossed quote: bid above ask"
    return None


def check_quote(quote: Quote, *, now: float, settings: QualitySettings) -> Assessed[Quote]:
    problem = quote_problem(quote)
    rejected = []
    if problem is not None:
        row = {
            "symbol": quote.symbol,
            "price": json_number(quote.price),
            "bid": None if quote.bid is None else json_number(quote.bid),
            "ask": None if quote.ask is None else json_number(quote.ask),
            "ts": quote.ts,
        }
        rejected.append(Rejected(problem, row, quote.ts))
    stale = now - quote.ts > settings.quote_stale_seconds
    kept = 0 if problem else 1
    report = QualityReport(rows=1, kept=kept, expected=kept, invalid=1 - kept, stale=stale)
    return Assessed(quote, report, rejected)


def check_news(items: list[NewsItem]) -> Assessed[list[NewsItem]]:
    kept: list[NewsItem] = []
    seen: set[str] = set()
    rejected: list[Rejected] = []
    duplicates = invalid = 0
    for item in items:
        row = {"id": item.id, "title": item.title, "url": item.url, "source": item.source}
        if not item.title.strip():
            rejected.append(Rejected("news item without a title", row, item.published_at))
            invalid += 1
        elif item.id in seen:
            rejected.append(Rejected("duplicate news item", row, item.published_at))
            duplicates += 1
        else:
            seen.add(item.id)
            kept.append(item)
    kept.sort(key=lambda item: item.published_at or 0, reverse=True)
    report = QualityReport(
        rows=len(items), kept=len(kept), expected=len(kept), duplicates=duplicates, invalid=invalid
    )
    return Assessed(kept, report, rejected)


def check_fundamentals(values: Fundamentals) -> Assessed[Fundamentals]:
    present: dict[str, float | str | None] = {
        key: value for key, value in values.values.items() if value is not None
    }
    report = QualityReport(rows=len(values.values), kept=len(present), expected=len(present))
    return Assessed(replace(values, values=present), report, [])


def assess(query: Query[T], value: T, *, now: float, settings: QualitySettings) -> Assessed[T]:
    """Check one fetch's result according to its kind."""
    result: Assessed[Any]
    if isinstance(value, BarFrame):
        assert isinstance(query, BarsQuery)
        checked = check_bars(
            value,
            timeframe=query.timeframe,
            calendar=query.calendar,
            wants_latest=query.end is None,
            now=now,
            settings=settings,
        )
        frame = checked.frame
        if query.limit is not None and len(frame) > query.limit:
            frame = frame.slice(len(frame) - query.limit, len(frame))
        result = Assessed(frame, checked.report, checked.rejected)
    elif isinstance(value, Series):
        result = check_series(value, spikes=isinstance(query, FundNavQuery), settings=settings)
    elif isinstance(value, FxRates):
        result = check_fx(value, now=now, settings=settings)
    elif isinstance(value, Quote):
        result = check_quote(value, now=now, settings=settings)
    elif isinstance(value, Fundamentals):
        result = check_fundamentals(value)
    elif isinstance(value, list):
        result = check_news(cast(list[NewsItem], value))
    else:  # pragma: no cover - every kind is listed above
        raise TypeError(f"no quality check for {type(value).__name__}")
    return cast(Assessed[T], result)
