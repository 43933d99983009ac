"""Reference-data reads: FX rates, economic series, fund NAVs, company fundamentals (stored by
the jobs in tasks.py). Thin: one service call each."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import require
from quantdesk.dependencies import SessionDep
from quantdesk.errors import Unprocessable, field_error
from quantdesk.infra.cache import CacheStatus
from quantdesk.infra.cache.dependencies import CACHE_HEADER
from quantdesk.kit.app_state import app_state
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.marketdata.reference.schemas import (
    FundamentalsResponse,
    FxRatesRead,
    FxRatesResponse,
    ObservationRead,
    ReferenceMeta,
    SeriesMeta,
    SeriesResponse,
)
from quantdesk.marketdata.reference.service import (
    fundamentals_service,
    fx_rate_service,
    series_service,
)
from quantdesk.models import SeriesKind

# Each route declares its own scope: fundamentals need more than the other two.
router = APIRouter(tags=["reference data"])
READ_TICKERS = [Depends(require(Scope.READ_TICKERS))]
READ_FINANCIALS = [Depends(require(Scope.READ_FINANCIALS))]

Currency = Annotated[
    str, Query(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 base currency, e.g. EUR")
]
SERIES_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
SeriesId = Annotated[str, Path(pattern=SERIES_ID_PATTERN, description="Series id, e.g. CPIAUCSL")]
FundId = Annotated[str, Path(pattern=SERIES_ID_PATTERN, description="Fund id, e.g. VFIAX")]
Symbol = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="Ticker symbol, e.g. AAPL")]


@router.get(
    "/fx/rates",
    response_model=FxRatesResponse,
    dependencies=READ_TICKERS,
    description=(
        "Stored FX rates for a base currency: how many units of each currency one `base` buys. "
        "The latest publication, or with `date` the one in force that day (the last on or "
        "before it). Filled daily by the `fx.fetch_rates` job. One source's mid rates: "
        "`source` (ecb, bam, ...), else the source quoting the most currencies for `base`."
    ),
)
async def get_fx_rates(
    session: SessionDep,
    base: Currency = "EUR",
    on: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD")] = None,
    source: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9:._-]{1,32}$", description="Publisher, e.g. ecb or bam"),
    ] = None,
) -> FxRatesResponse:
    found = await fx_rate_service.rates(session, base=base, on=on, source=source)
    return FxRatesResponse(
        data=FxRatesRead(base=found.base, date=found.day, rates=found.rates),
        meta=ReferenceMeta(
            provider=found.provider, as_of=found.fetched_at, cache=CacheStatus.MISS.value
        ),
    )


SeriesStart = Annotated[date | None, Query(description="Inclusive, YYYY-MM-DD")]
SeriesEnd = Annotated[date | None, Query(description="Inclusive, YYYY-MM-DD")]
SeriesCursor = Annotated[str | None, Query(max_length=256)]
SeriesLimit = Annotated[int, Query(ge=1, le=10_000)]


async def _series(
    session: AsyncSession,
    kind: SeriesKind,
    series_id: str,
    start: date | None,
    end: date | None,
    cursor: str | None,
    limit: int,
) -> SeriesResponse:
    """One cursor page of a stored series (economic or fund NAV): the two routes differ only
    in the kind they read."""
    if start is not None and end is not None and start > end:
        raise Unprocessable(
            "start is after end", errors=[field_error(["query", "start"], "must not be after end")]
        )
    page = await series_service.observations(
        session,
        kind=kind,
        series_id=series_id,
        start=start,
        end=end,
        cursor=cursor,
        limit=limit,
    )
    data = [ObservationRead(date=row.day, value=row.value) for row in page.rows]
    return SeriesResponse(
        data=data,
        meta=SeriesMeta(
            series_id=page.series_id,
            count=len(data),
            next_cursor=page.next_cursor,
            provider=page.provider,
            as_of=page.fetched_at,
            cache=CacheStatus.MISS.value,
        ),
    )


@router.get(
    "/economy/series/{series_id}",
    response_model=SeriesResponse,
    dependencies=READ_TICKERS,
    description=(
        "Stored observations of an economic series, oldest first, with cursor pagination. "
        "Series are listed in `QUANTDESK_JOBS_ECONOMIC_SERIES` and fetched weekly by the "
        "`economy.fetch_series` job."
    ),
)
async def get_economic_series(
    session: SessionDep,
    series_id: SeriesId,
    start: SeriesStart = None,
    end: SeriesEnd = None,
    cursor: SeriesCursor = None,
    limit: SeriesLimit = 1_000,
) -> SeriesResponse:
    return await _series(session, SeriesKind.ECONOMIC, series_id, start, end, cursor, limit)


@router.get(
    "/funds/{fund_id}/navs",
    response_model=SeriesResponse,
    dependencies=READ_TICKERS,
    description=(
        "Stored net asset values of a fund, one a day, oldest first, with cursor pagination "
        "(`meta.series_id` is the fund). Funds are listed in `QUANTDESK_JOBS_FUND_NAVS` and "
        "fetched by the `economy.fetch_series` job through the fund-NAV provider chain."
    ),
)
async def get_fund_navs(
    session: SessionDep,
    fund_id: FundId,
    start: SeriesStart = None,
    end: SeriesEnd = None,
    cursor: SeriesCursor = None,
    limit: SeriesLimit = 1_000,
) -> SeriesResponse:
    return await _series(session, SeriesKind.FUND_NAV, fund_id, start, end, cursor, limit)


@router.get(
    "/fundamentals/{symbol}",
    response_model=FundamentalsResponse,
    dependencies=READ_FINANCIALS,
    description=(
        "The latest stored fundamentals of a company (its most recent reported period), "
        "cached (1 h fresh, then stale for up to a day while one refresh runs; a newly stored "
        "snapshot invalidates it). `X-Cache` and `meta.cache` say `hit`, `miss` or `stale`."
    ),
)
async def get_fundamentals(request: Request, symbol: Symbol) -> Response:
    # Database and cache from app.state, as GET /quotes does: a hit is the whole work.
    state = app_state(request.app)
    document, status = await fundamentals_service.latest(state.db, state.cache, symbol)
    body = {
        "data": {key: document[key] for key in ("symbol", "as_of", "values")},
        "meta": {
            "provider": document["provider"],
            "fallback_trace": [],
            "as_of": document["fetched_at"],
            "cache": status.value,
        },
    }
    return Response(
        orjson.dumps(body), media_type="application/json", headers={CACHE_HEADER: status.value}
    )
