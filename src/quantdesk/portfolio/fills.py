"""GET /accounts/{id}/fills: the account's executions, newest market time first (what a chart
marks as the user's trades, and what the activity ledger books)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import owner_id, require
from quantdesk.dependencies import SessionDep
from quantdesk.errors import Unprocessable, field_error
from quantdesk.kit.pagination import ListMeta, Page, decode_cursor, split_page
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.models.portfolio import PaperFill
from quantdesk.portfolio.accounts import account_service
from quantdesk.portfolio.money import Money

router = APIRouter(tags=["paper orders"])

Trader = Annotated[Principal, Depends(require(Scope.EXECUTE_TRADES))]
AccountId = Annotated[str, Path(min_length=1, max_length=64, description="Account id")]


class FillRead(BaseModel):
    id: str
    order_id: str
    symbol: str
    side: str
    qty: Money
    price: Money
    notional: Money
    fee: Money
    realized_pnl: Money
    market_time: datetime  # the market event (bar open or quote time) it filled on
    created_at: datetime


def fill_read(fill: PaperFill) -> FillRead:
    return FillRead(
        id=fill.id,
        order_id=fill.order_id,
        symbol=fill.symbol,
        side=fill.side.value,
        qty=fill.qty,
        price=fill.price,
        notional=fill.notional,
        fee=fill.fee,
        realized_pnl=fill.realized_pnl,
        market_time=datetime.fromtimestamp(fill.market_ts, UTC),
        created_at=fill.created_at,
    )


def _decode(cursor: str) -> tuple[int, str]:
    ts, _, fill_id = str(decode_cursor(cursor)).partition(":")
    try:
        return int(ts), fill_id
    except ValueError:
        message = "malformed cursor: pass meta.next_cursor of a page of this list unchanged"
        raise Unprocessable(message, errors=[field_error(["query", "cursor"], message)]) from None


async def fills_page(
    session: AsyncSession,
    account_id: str,
    *,
    symbol: str | None,
    order_id: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[PaperFill], str | None]:
    statement = (
        select(PaperFill)
        .where(PaperFill.account_id == account_id)
        .order_by(PaperFill.market_ts.desc(), PaperFill.id.desc())
        .limit(limit + 1)
    )
    if symbol is not None:
        statement = statement.where(PaperFill.symbol == symbol)
    if order_id is not None:
        statement = statement.where(PaperFill.order_id == order_id)
    if cursor is not None:
        ts, fill_id = _decode(cursor)
        statement = statement.where(
            or_(PaperFill.market_ts < ts, and_(PaperFill.market_ts == ts, PaperFill.id < fill_id))
        )
    rows = list(await session.scalars(statement))
    return split_page(rows, limit, key=lambda fill: f"{fill.market_ts}:{fill.id}")


@router.get(
    "/accounts/{account_id}/fills",
    description=(
        "The account's fills, newest market time first (cursor pages); `symbol` and "
        "`order_id` filter. Prices and amounts are decimal strings."
    ),
)
async def list_fills(
    principal: Trader,
    session: SessionDep,
    account_id: AccountId,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN)] = None,
    order_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[FillRead]:
    account = await account_service.get_owned(session, owner_id(principal), account_id)
    rows, next_cursor = await fills_page(
        session,
        account.id,
        symbol=symbol.upper() if symbol is not None else None,
        order_id=order_id,
        cursor=cursor,
        limit=limit,
    )
    data = [fill_read(fill) for fill in rows]
    return Page[FillRead](data=data, meta=ListMeta(count=len(data), next_cursor=next_cursor))


__all__ = ["FillRead", "fill_read", "fills_page", "router"]
