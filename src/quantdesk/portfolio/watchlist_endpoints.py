"""/watchlists: the caller's named symbol lists with notes and latest prices (any signed-in
user; someone else's list answers 404 exactly like a missing one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from quantdesk.auth.dependencies import SignedIn, owner_id
from quantdesk.dependencies import SessionDep
from quantdesk.kit.app_state import app_state
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.portfolio.watch_schemas import (
    WatchlistCreate,
    WatchlistRead,
    WatchlistSummary,
    WatchlistSymbolIn,
    WatchlistUpdate,
)
from quantdesk.portfolio.watchlists import QuoteReader, watchlist_service

router = APIRouter(tags=["watchlists"])

WatchlistId = Annotated[str, Path(min_length=1, max_length=64, description="Watchlist id")]
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="e.g. GOOG")]


def _quotes(request: Request) -> QuoteReader:
    state = app_state(request.app)
    return QuoteReader(state.db, state.cache)


@router.post(
    "/watchlists",
    status_code=status.HTTP_201_CREATED,
    description=(
        'Create a watchlist: `{"name", "symbols": [{"symbol", "note"}, ...]}` (or bare '
        'symbols, `["GOOG", "MSFT"]`). Unknown symbols are a 422 naming each one.'
    ),
)
async def create_watchlist(
    body: WatchlistCreate, principal: SignedIn, session: SessionDep, request: Request
) -> WatchlistRead:
    return await watchlist_service.create(
        session, _quotes(request), user_id=owner_id(principal), body=body
    )


@router.get("/watchlists", description="The caller's watchlists by name, cursor pages.")
async def list_watchlists(
    principal: SignedIn,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Page[WatchlistSummary]:
    page = await watchlist_service.search(
        session, user_id=owner_id(principal), cursor=cursor, limit=limit
    )
    meta = ListMeta(count=len(page.watchlists), next_cursor=page.next_cursor)
    return Page[WatchlistSummary](data=page.watchlists, meta=meta)


@router.get("/watchlists/{watchlist_id}")
async def get_watchlist(
    watchlist_id: WatchlistId, principal: SignedIn, session: SessionDep, request: Request
) -> WatchlistRead:
    return await watchlist_service.get(
        session, _quotes(request), user_id=owner_id(principal), watchlist_id=watchlist_id
    )


@router.patch(
    "/watchlists/{watchlist_id}",
    description="Rename and/or replace the symbols (`symbols` replaces the whole list).",
)
async def update_watchlist(
    watchlist_id: WatchlistId,
    body: WatchlistUpdate,
    principal: SignedIn,
    session: SessionDep,
    request: Request,
) -> WatchlistRead:
    return await watchlist_service.update(
        session, _quotes(request), user_id=owner_id(principal), watchlist_id=watchlist_id, body=body
    )


@router.delete("/watchlists/{watchlist_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_watchlist(
    watchlist_id: WatchlistId, principal: SignedIn, session: SessionDep
) -> None:
    await watchlist_service.delete(session, user_id=owner_id(principal), watchlist_id=watchlist_id)


@router.post(
    "/watchlists/{watchlist_id}/symbols",
    status_code=status.HTTP_201_CREATED,
    description="Add a symbol (201), or set the note of one already listed (200).",
)
async def add_symbol(
    watchlist_id: WatchlistId,
    body: WatchlistSymbolIn,
    principal: SignedIn,
    session: SessionDep,
    request: Request,
    response: Response,
) -> WatchlistRead:
    watchlist, added = await watchlist_service.add_symbol(
        session, _quotes(request), user_id=owner_id(principal), watchlist_id=watchlist_id, body=body
    )
    if not added:
        response.status_code = status.HTTP_200_OK
    return watchlist


@router.delete(
    "/watchlists/{watchlist_id}/symbols/{symbol}", status_code=status.HTTP_204_NO_CONTENT
)
async def remove_symbol(
    watchlist_id: WatchlistId, symbol: SymbolPath, principal: SignedIn, session: SessionDep
) -> None:
    await watchlist_service.remove_symbol(
        session, user_id=owner_id(principal), watchlist_id=watchlist_id, symbol=symbol.upper()
    )
