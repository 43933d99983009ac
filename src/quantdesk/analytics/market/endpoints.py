"""Market overview and screener routes. Thin: one service call each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from quantdesk.access.scopes import Scope
from quantdesk.analytics.market.schemas import (
    MoverKind,
    MoversResponse,
    ScreenerRequest,
    ScreenerResponse,
    SectorsResponse,
    SummaryResponse,
)
from quantdesk.analytics.market.service import market_service
from quantdesk.auth.dependencies import require
from quantdesk.dependencies import SessionDep
from quantdesk.models import AssetClass

router = APIRouter(tags=["market overview"])
READ_TICKERS = [Depends(require(Scope.READ_TICKERS))]
AssetClassQuery = Annotated[AssetClass | None, Query(description="One asset class; all if absent")]


@router.get(
    "/market/summary",
    response_model=SummaryResponse,
    dependencies=READ_TICKERS,
    description=(
        "Per asset class: gainers, losers and unchanged counts, volume, turnover (close x "
        "volume) and average change of the instruments that qualify (docs/research.md), as of "
        "their last complete session. Read from what the `market.refresh` job computed."
    ),
)
async def get_market_summary(
    session: SessionDep, asset_class: AssetClassQuery = None
) -> SummaryResponse:
    data, meta = await market_service.summary(
        session, asset_class.value if asset_class is not None else None
    )
    return SummaryResponse(data=data, meta=meta)


@router.get(
    "/market/movers",
    response_model=MoversResponse,
    dependencies=READ_TICKERS,
    description=(
        "Top gainers (change_pct descending), losers (ascending) or most active (volume "
        "descending) of the last complete session, ties by symbol; ranked over every asset "
        "class, or within `asset_class`."
    ),
)
async def get_market_movers(
    session: SessionDep,
    kind: Annotated[MoverKind, Query()] = "gainers",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    asset_class: AssetClassQuery = None,
) -> MoversResponse:
    data, meta = await market_service.movers(
        session, kind, asset_class.value if asset_class is not None else None, limit
    )
    return MoversResponse(data=data, meta=meta)


@router.get(
    "/market/sectors",
    response_model=SectorsResponse,
    dependencies=READ_TICKERS,
    description=(
        "The summary per sector of one asset class (instruments without a sector under "
        "`Unclassified`), by turnover descending."
    ),
)
async def get_market_sectors(
    session: SessionDep,
    asset_class: Annotated[AssetClass, Query()] = AssetClass.EQUITY,
) -> SectorsResponse:
    data, meta = await market_service.sectors(session, asset_class.value)
    return SectorsResponse(data=data, meta=meta)


@router.post(
    "/screener",
    response_model=ScreenerResponse,
    dependencies=READ_TICKERS,
    description=(
        "Instruments of the market snapshot matching every filter (`field`, `op`, `value`), "
        "sorted by `sort` (`-` for descending, NULLs last), a page of `limit` with "
        "`meta.next_cursor` for the next. Fields and operators: docs/research.md."
    ),
)
async def screen(session: SessionDep, body: ScreenerRequest) -> ScreenerResponse:
    data, meta = await market_service.screen(session, body)
    return ScreenerResponse(data=data, meta=meta)
