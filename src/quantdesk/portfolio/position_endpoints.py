"""/accounts/{id}/positions, /summary and /equity (docs/paper-trading.md, "Positions and
P&L"). Every route needs `execute:trades`; another user's account answers 404 exactly like a
missing one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import owner_id, require
from quantdesk.dependencies import SerializedWrites, SessionDep, SettingsDep
from quantdesk.kit.app_state import app_state
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.models.portfolio import OrderStatus
from quantdesk.portfolio.order_endpoints import rejected_problem
from quantdesk.portfolio.order_schemas import OrderRead, order_read
from quantdesk.portfolio.position_schemas import EquityHistory, PositionRead, SummaryRead
from quantdesk.portfolio.positions import position_service

router = APIRouter(tags=["paper positions"])

Trader = Annotated[Principal, Depends(require(Scope.EXECUTE_TRADES))]
AccountId = Annotated[str, Path(min_length=1, max_length=64, description="Account id")]
Symbol = Annotated[str, Path(pattern=SYMBOL_PATTERN, description="Ticker symbol")]


@router.get(
    "/accounts/{account_id}/positions",
    description=(
        "The account's open positions (FIFO lots marked to the last price), by symbol: one "
        "page holding all of them (`meta.next_cursor` null)."
    ),
)
async def list_positions(
    principal: Trader, session: SessionDep, account_id: AccountId
) -> Page[PositionRead]:
    positions = await position_service.list(session, owner_id(principal), account_id)
    return Page[PositionRead](data=positions, meta=ListMeta(count=len(positions), next_cursor=None))


@router.get("/accounts/{account_id}/positions/{symbol}")
async def get_position(
    principal: Trader, session: SessionDep, account_id: AccountId, symbol: Symbol
) -> PositionRead:
    return await position_service.get(session, owner_id(principal), account_id, symbol.upper())


@router.delete(
    "/accounts/{account_id}/positions/{symbol}",
    dependencies=[SerializedWrites],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderRead,
    description=(
        "Close the position at market: places a market order of the opposite side for its "
        "whole quantity (audited like any order) and answers it, 202: it fills on the "
        "symbol's next market event. 404 without an open position; 422 `order-rejected` "
        "when the order checks refuse it."
    ),
)
async def close_position(
    principal: Trader,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    account_id: AccountId,
    symbol: Symbol,
) -> Any:
    result = await position_service.close(
        session,
        settings,
        user_id=owner_id(principal),
        account_id=account_id,
        symbol=symbol.upper(),
        actor=principal,
        events=app_state(request.app).events,
    )
    order = result.order
    location = f"/api/v1/accounts/{order.account_id}/orders/{order.id}"
    if order.status is OrderStatus.REJECTED:
        return rejected_problem(
            request,
            reject_reason=order.reject_reason or "rejected",
            detail=order.reason_detail or "the order was rejected",
            order=order,
            headers={"Location": location},
        )
    response.headers["Location"] = location
    return order_read(order)


@router.get(
    "/accounts/{account_id}/summary",
    description=(
        "Cash, held, free, equity, exposure, day and total P&L, open orders and positions, and "
        "the backtest statistics over the account's daily equity points."
    ),
)
async def account_summary(
    principal: Trader, session: SessionDep, account_id: AccountId
) -> SummaryRead:
    return await position_service.summary(session, owner_id(principal), account_id)


@router.get(
    "/accounts/{account_id}/equity",
    description=(
        "Columnar equity history, oldest first: one point per market day (`kind` day, at the "
        "day's 00:00 UTC, valued after the day's last market event) and one per fill (at its "
        "market time). `timeframe`: `1d` (the only one: day points and fills)."
    ),
)
async def account_equity(
    principal: Trader,
    session: SessionDep,
    account_id: AccountId,
    timeframe: Annotated[Literal["1d"], Query()] = "1d",
) -> EquityHistory:
    return await position_service.equity(session, owner_id(principal), account_id, timeframe)
