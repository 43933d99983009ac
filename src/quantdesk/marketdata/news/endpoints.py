"""GET /news (cursor pages, newest first) and GET /news/{id}. Thin: one service call each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import require
from quantdesk.dependencies import SessionDep
from quantdesk.kit.schemas import Instant
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.marketdata.news.hints import empty_hint
from quantdesk.marketdata.news.schemas import (
    NewsItemMeta,
    NewsItemResponse,
    NewsListMeta,
    NewsListResponse,
    NewsRead,
)
from quantdesk.marketdata.news.service import news_service

router = APIRouter(tags=["news"])
READ_TICKERS = [Depends(require(Scope.READ_TICKERS))]


@router.get(
    "/news",
    response_model=NewsListResponse,
    dependencies=READ_TICKERS,
    description=(
        "Stored news, newest first. `symbol`: items tagged with it (by the provider or from "
        "tickers and company names in the text); `since`: published at or after (ISO-8601, "
        "UTC when no offset); `q`: words that must each appear in the title or summary (any "
        "case). Filled by the `news.fetch` job and by `quantdesk demo load`."
    ),
)
async def list_news(
    session: SessionDep,
    symbol: Annotated[
        str | None, Query(pattern=SYMBOL_PATTERN, description="Ticker, e.g. GOOG")
    ] = None,
    since: Annotated[
        Instant | None, Query(description="ISO-8601 date-time with a timezone, or a date")
    ] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NewsListResponse:
    page = await news_service.page(
        session, symbol=symbol, since=since, q=q, cursor=cursor, limit=limit
    )
    data = [NewsRead.of(item) for item in page.items]
    hint = None
    if not data and cursor is None:
        hint = empty_hint(await news_service.count(session), symbol=symbol)
    return NewsListResponse(
        data=data,
        meta=NewsListMeta(
            count=len(data),
            next_cursor=page.next_cursor,
            provider=",".join(sorted({item.provider for item in data})) or "none",
            hint=hint,
        ),
    )


@router.get(
    "/news/{news_id}",
    response_model=NewsItemResponse,
    dependencies=READ_TICKERS,
    description="One stored news item with its symbols and sentiment (score, label, hits).",
)
async def get_news(
    session: SessionDep, news_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> NewsItemResponse:
    item = await news_service.get(session, news_id)
    return NewsItemResponse(data=NewsRead.of(item), meta=NewsItemMeta(provider=item.provider))
