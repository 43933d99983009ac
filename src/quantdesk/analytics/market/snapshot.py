"""Building the snapshot rows: each active instrument's last complete session (compute.py)
from its daily bars, else its finest intraday bars, else its quote; then which instruments
are current (their asset class's latest session) and qualify for the overview."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from quantdesk.analytics.market.compute import SessionFigures, session_figures
from quantdesk.analytics.market.repository import InstrumentFacts, MarketRepository
from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import Quote

MARKET_CAP_KEYS = ("market_cap", "market_capitalization")
SHARES_KEYS = (
    "shares_outstanding",
    "weighted_average_shares",
    "diluted_average_shares",
)
EPS_KEYS = (
    "eps",
    "diluted_earnings_per_share",
    "basic_earnings_per_share",
    "earnings_per_share",
)


def _number(values: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = values.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def valuation(values: dict[str, Any], price: float) -> tuple[float | None, float | None]:
    """(market cap, P/E) from a fundamentals snapshot: a stated market cap, else shares
    outstanding x price; P/E = price / earnings per share when earnings are positive."""
    cap = _number(values, MARKET_CAP_KEYS)
    if cap is None:
        shares = _number(values, SHARES_KEYS)
        cap = shares * price if shares is not None and shares > 0 else None
    eps = _number(values, EPS_KEYS)
    pe = price / eps if eps is not None and eps > 0 else None
    return cap, pe


def _from_quote(quote: Quote, today: date) -> SessionFigures | None:
    """A quote stands in for an instrument without bars once its day has completed."""
    day = quote.as_of.date()
    if day >= today:
        return None
    volume = quote.volume or 0.0
    return SessionFigures(
        session=day,
        price=quote.price,
        previous_close=quote.previous_close,
        change=quote.change,
        change_pct=quote.change_pct,
        open=quote.day_open if quote.day_open is not None else quote.price,
        high=quote.day_high if quote.day_high is not None else quote.price,
        low=quote.day_low if quote.day_low is not None else quote.price,
        volume=volume,
        turnover=quote.price * volume,
        rsi_14=None,
        sma_50=None,
        sma_200=None,
        sma_50_distance_pct=None,
        sma_200_distance_pct=None,
    )


async def build_rows(
    repo: MarketRepository,
    *,
    today: date,
    sessions: int,
    min_price: float,
    min_volume: float,
    sentiment_days: int,
) -> tuple[list[InstrumentFacts], list[dict[str, Any]]]:
    instruments = await repo.instruments()
    daily = await repo.daily_history(sessions)
    others = [facts.id for facts in instruments if facts.id not in daily]
    intraday = await repo.intraday_history(others, sessions)
    # A quote stands in only where no bars exist at all (weekly or monthly bars are no session).
    with_bars = await repo.with_bars([iid for iid in others if iid not in intraday])
    quotes = await repo.quotes(
        [iid for iid in others if iid not in intraday and iid not in with_bars]
    )
    fundamentals = await repo.fundamentals()
    sentiment = await repo.sentiment(sentiment_days)
    rows: list[dict[str, Any]] = []
    for facts in instruments:
        figures: SessionFigures | None
        if facts.id in daily:
            timeframe = Timeframe.D1.value
            figures = session_figures(daily[facts.id], Timeframe.D1, today=today)
        elif facts.id in intraday:
            tf, frame = intraday[facts.id]
            timeframe = tf.value
            figures = session_figures(frame, tf, today=today)
        elif facts.id in quotes:
            timeframe = "q"
            figures = _from_quote(quotes[facts.id], today)
        else:
            continue
        if figures is None:
            continue
        cap, pe = valuation(fundamentals.get(facts.symbol, {}), figures.price)
        row = {
            **vars(facts),
            **vars(figures),
            "market_cap": cap,
            "pe": pe,
            "sentiment": sentiment.get(facts.symbol),
            "timeframe": timeframe,
        }
        row["instrument_id"] = row.pop("id")
        rows.append(row)
    latest: dict[str, date] = {}
    for row in rows:
        latest[row["asset_class"]] = max(row["session"], latest.get(row["asset_class"], date.min))
    for row in rows:
        row["current"] = row["session"] == latest[row["asset_class"]]
        row["qualifies"] = (
            row["current"]
            and row["change"] is not None
            and row["price"] >= min_price
            and row["volume"] >= min_volume
        )
    return instruments, rows
