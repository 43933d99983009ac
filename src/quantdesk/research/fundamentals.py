"""Fundamentals with computed ratios (engine/research/ratios.py) and the extended statements.

The ratios use the newest stored period, the one before it for growth and average equity,
and the latest stored close for market ratios (trailing P/E: latest price over the last
reported diluted EPS). `BASIC_ITEMS` is what `read:financials` sees; every line item of every
period is the extended statements, behind `read:premium`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.engine.research.ratios import Ratio, compute_ratios
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.service import (
    InstrumentNotFound,
    bar_service,
    instrument_service,
)
from quantdesk.research.errors import NoFundamentals
from quantdesk.research.repository import fundamentals_periods

BASIC_ITEMS = (
    "currency",
    "fiscal_year",
    "fiscal_period",
    "revenues",
    "gross_profit",
    "operating_income_loss",
    "net_income_loss",
    "diluted_earnings_per_share",
    "equity_attributable_to_parent",
)
HOW_TO_GET = (
    "store fundamentals with the `reports.fetch_financials` job (a fundamentals provider such as "
    "polygon or files configured) or run `quantdesk demo load` for the sample set"
)


@dataclass(frozen=True)
class Period:
    as_of: date
    values: dict[str, float | str | None]
    provider: str


@dataclass(frozen=True)
class LatestPrice:
    close: float
    ts: int
    timeframe: str


@dataclass(frozen=True)
class FundamentalsView:
    symbol: str
    as_of: date
    basic: dict[str, float | str | None]
    ratios: list[Ratio]
    price: LatestPrice | None
    provider: str
    periods: list[Period]  # newest first: the extended statements


async def latest_price(session: AsyncSession, symbol: str) -> LatestPrice | None:
    """The last stored close (daily bars when stored, else the finest timeframe)."""
    instrument = await instrument_service.get(session, symbol)
    coverage = await instrument_service.coverage(session, instrument)
    if not coverage:
        return None
    stored = {c.timeframe for c in coverage}
    timeframe = Timeframe.D1 if Timeframe.D1 in stored else min(stored, key=lambda t: t.seconds)
    series = await bar_service.get_bars(
        session, symbol=symbol, timeframe=timeframe, start=None, end=None, limit=1
    )
    if len(series.bars) == 0:
        return None
    return LatestPrice(float(series.bars.close[-1]), int(series.bars.ts[-1]), timeframe.value)


async def fundamentals_view(session: AsyncSession, symbol: str) -> FundamentalsView:
    symbol = symbol.upper()
    rows = await fundamentals_periods(session, symbol)
    if not rows:
        raise NoFundamentals(f"no stored fundamentals for {symbol!r}: {HOW_TO_GET}")
    periods = [Period(row.as_of, dict(row.values), row.provider) for row in rows]
    price: LatestPrice | None = None
    try:
        price = await latest_price(session, symbol)
    except InstrumentNotFound:  # fundamentals of a symbol without bars: no market ratios
        price = None
    latest = periods[0]
    previous = periods[1].values if len(periods) > 1 else None
    ratios = compute_ratios(latest.values, previous, price.close if price else None)
    basic = {key: latest.values[key] for key in BASIC_ITEMS if key in latest.values}
    return FundamentalsView(
        symbol=symbol,
        as_of=latest.as_of,
        basic=basic,
        ratios=ratios,
        price=price,
        provider=",".join(sorted({p.provider for p in periods})),
        periods=periods,
    )
