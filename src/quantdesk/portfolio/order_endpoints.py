"""/accounts/{account_id}/orders: place, list, read, cancel and replace paper orders
(docs/paper-trading.md, "Orders"). Every route needs `execute:trades`; another user's account
or order answers 404 exactly like a missing one.

A placement the pre-trade checks reject is still recorded (status `rejected`) and answered
422 `order-rejected` with `reject_reason`, `order_id` and the `order`, so a client cannot take
it for a success; replaying its Idempotency-Key answers the same.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import owner_id, policy, require
from quantdesk.dependencies import SerializedWrites, SessionDep, SettingsDep
from quantdesk.errors import problem_body, problem_response
from quantdesk.kit.app_state import app_state
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.models.portfolio import OrderStatus, PaperOrder
from quantdesk.portfolio.accounts import account_service
from quantdesk.portfolio.order_batch import Placement
from quantdesk.portfolio.order_errors import ReplaceRejected
from quantdesk.portfolio.order_schemas import (
    OrderCreate,
    OrderRead,
    OrderReplace,
    StatusFilter,
    order_read,
)
from quantdesk.portfolio.orders import PlaceResult, order_service

router = APIRouter(tags=["paper orders"])

Trader = Annotated[Principal, Depends(require(Scope.EXECUTE_TRADES))]
AccountId = Annotated[str, Path(min_length=1, max_length=64, description="Account id")]
OrderId = Annotated[str, Path(min_length=1, max_length=64, description="Order id")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Repeat a placement safely: the same key and body answer the order it "
        "first created, with the same status code and `Idempotent-Replayed: true`",
    ),
]
# Placing and replacing pay the `orders-create` policy, counted per paper account.
# Every other write here queues on the process's SQLite write gate (dependencies.SerializedWrites).
PLACE_LIMIT = [Depends(policy("orders-create"))]
REPLAYED_HEADER = "Idempotent-Replayed"
_REJECTED: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "Malformed request, or the order was rejected: a problem with code "
        "`order-rejected`, `reject_reason`, `order_id` and the recorded `order`",
        "content": {"application/problem+json": {"schema": {"type": "object"}}},
    }
}


def _url(order: PaperOrder) -> str:
    return f"/api/v1/accounts/{order.account_id}/orders/{order.id}"


def rejected_problem(
    request: Request,
    *,
    reject_reason: str,
    detail: str,
    order: PaperOrder | None = None,
    order_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """422 `order-rejected` problem+json with `reject_reason`, `order_id` (and `order`)."""
    request_id = request.scope.get("state", {}).get("request_id")
    body = problem_body(
        status=422,
        code="order-rejected",
        title="Order Rejected",
        detail=detail,
        instance=request.url.path,
        request_id=request_id if isinstance(request_id, str) else None,
    )
    body["reject_reason"] = reject_reason
    body["order_id"] = order.id if order is not None else order_id
    if order is not None:
        body["order"] = order_read(order).model_dump(mode="json")
    return problem_response(body, headers)


def _answer(
    request: Request, response: Response, result: PlaceResult, status_code: int
) -> OrderRead | Response:
    order = result.order
    headers = {"Location": _url(order)}
    if not result.created:
        headers[REPLAYED_HEADER] = "true"
    if order.status is OrderStatus.REJECTED:
        return rejected_problem(
            request,
            reject_reason=order.reject_reason or "rejected",
            detail=order.reason_detail or "the order was rejected",
            order=order,
            headers=headers,
        )
    response.status_code = status_code
    response.headers.update(headers)
    return order_read(order)


@router.post(
    "/accounts/{account_id}/orders",
    status_code=status.HTTP_201_CREATED,
    dependencies=PLACE_LIMIT,
    response_model=OrderRead,
    responses=_REJECTED,
    description=(
        "Place a paper order. `qty` and prices are decimal strings; `limit_price` only for "
        "limit/stop_limit, `stop_price` only for stop/stop_limit. A buy holds its estimated "
        "cost from free cash. Answers 201 with the order (status `new`), or 422 "
        "`order-rejected` with `reject_reason` when the checks refuse it (the order is kept "
        "with status `rejected`). First eligible on the symbol's next market event."
    ),
)
async def place_order(
    account_id: AccountId,
    body: OrderCreate,
    principal: Trader,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    # Written with the placements of other requests in one transaction (group commit,
    # portfolio/order_batch.py), which also holds the SQLite write gate.
    placement = Placement(owner_id(principal), account_id, body, idempotency_key, principal)
    result = await app_state(request.app).placements.place(placement)
    return _answer(request, response, result, status.HTTP_201_CREATED)


@router.get(
    "/accounts/{account_id}/orders",
    description=(
        "The account's orders, newest first. `status`: one status, `open` (new, "
        "partially_filled) or `closed`; `symbol`. Cursor pages (`meta.next_cursor`)."
    ),
)
async def list_orders(
    account_id: AccountId,
    principal: Trader,
    session: SessionDep,
    status_filter: Annotated[StatusFilter | None, Query(alias="status")] = None,
    symbol: Annotated[str | None, Query(pattern=SYMBOL_PATTERN)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Page[OrderRead]:
    account = await account_service.get_owned(session, owner_id(principal), account_id)
    orders, next_cursor = await order_service.page(
        session,
        account,
        status=status_filter,
        symbol=symbol.upper() if symbol is not None else None,
        cursor=cursor,
        limit=limit,
    )
    data = [order_read(order) for order in orders]
    return Page[OrderRead](data=data, meta=ListMeta(count=len(data), next_cursor=next_cursor))


@router.get("/accounts/{account_id}/orders/{order_id}")
async def get_order(
    account_id: AccountId, order_id: OrderId, principal: Trader, session: SessionDep
) -> OrderRead:
    account = await account_service.get_owned(session, owner_id(principal), account_id)
    return order_read(await order_service.get(session, account, order_id))


@router.delete(
    "/accounts/{account_id}/orders/{order_id}",
    dependencies=[SerializedWrites],
    description=(
        "Cancel an open order: status `canceled`, its remaining hold released to free cash. "
        "409 `order-not-open` for an order that is already filled, canceled, expired, "
        "rejected or replaced."
    ),
)
async def cancel_order(
    account_id: AccountId,
    order_id: OrderId,
    principal: Trader,
    session: SessionDep,
    request: Request,
) -> OrderRead:
    account = await account_service.lock_owned(session, owner_id(principal), account_id)
    order = await order_service.cancel(
        session,
        account=account,
        order_id=order_id,
        actor=principal,
        events=app_state(request.app).events,
    )
    return order_read(order)


@router.patch(
    "/accounts/{account_id}/orders/{order_id}",
    dependencies=[*PLACE_LIMIT, SerializedWrites],
    response_model=OrderRead,
    responses=_REJECTED,
    description=(
        "Replace an open order (Alpaca-style): the old order ends `replaced` and a new order "
        "with the changes (`qty` = the new order's whole quantity, default what the old one "
        "had left) is placed, `replaces` naming the old one; answers the new order. If the "
        "new order would be rejected, 422 `order-rejected` and nothing changes."
    ),
)
async def replace_order(
    account_id: AccountId,
    order_id: OrderId,
    body: OrderReplace,
    principal: Trader,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> Any:
    account = await account_service.lock_owned(session, owner_id(principal), account_id)
    try:
        result = await order_service.replace(
            session,
            settings,
            account=account,
            order_id=order_id,
            body=body,
            actor=principal,
            events=app_state(request.app).events,
        )
    except ReplaceRejected as refused:
        await _undo(session)
        return rejected_problem(
            request,
            reject_reason=refused.reject_reason,
            detail=refused.detail,
            order_id=refused.order_id,
        )
    return _answer(request, response, result, status.HTTP_200_OK)


async def _undo(session: AsyncSession) -> None:
    # The refused replacement changed the old order and booked entries: drop all of it (the
    # session dependency then commits an empty unit of work).
    await session.rollback()
