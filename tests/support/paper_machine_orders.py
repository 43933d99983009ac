"""The desk state machine's model of order placement and replacement: the request it sends,
and what the desk must answer (docs/paper-trading.md, "Orders": the pre-trade checks in
order, the cash an accepted order holds)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.errors import Unprocessable
from quantdesk.models.marketdata import Instrument, Quote
from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    MarketClock,
    OrderSide,
    OrderType,
    PaperAccount,
    PaperOrder,
    TimeInForce,
)
from quantdesk.portfolio.fill_models import Family, family, fill_model_for, qty_decimals
from quantdesk.portfolio.order_errors import OrderNotOpen, ReplaceRejected
from quantdesk.portfolio.order_schemas import OrderCreate, OrderReplace, price_field_error
from tests.support.paper_machine import LIMITED, STOPPED, ZERO, cents, expected_hold, position_qty


def order_body(
    symbol: str,
    side: OrderSide,
    type_: OrderType,
    tif: TimeInForce,
    qty: Decimal,
    last: Decimal,
    limit_pct: int,
    stop_pct: int,
) -> OrderCreate:
    """An order of `type_` with its limit / stop `limit_pct` / `stop_pct` percent from the
    last price (only the prices its type takes)."""
    return OrderCreate(
        symbol=symbol,
        side=side,
        type=type_,
        qty=qty,
        limit_price=cents(last * (1 + Decimal(limit_pct) / 100)) if type_ in LIMITED else None,
        stop_price=cents(last * (1 + Decimal(stop_pct) / 100)) if type_ in STOPPED else None,
        time_in_force=tif,
    )


@dataclass(frozen=True)
class Expected:
    reject_reason: str | None = None
    hold: Decimal = ZERO


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


async def expect_place(
    session: AsyncSession,
    settings: Settings,
    account: PaperAccount,
    body: OrderCreate,
    *,
    replacing: PaperOrder | None = None,
) -> Expected:
    """The verdict on `body` (when `replacing`, as if that order were already replaced: its
    hold free again, its sell quantity no longer open)."""
    instrument = await session.scalar(select(Instrument).where(Instrument.symbol == body.symbol))
    if instrument is None:
        return Expected("unknown_symbol")
    if _decimals(body.qty) > qty_decimals(instrument.asset_class):
        return Expected("qty_precision")
    clock = await session.get(MarketClock, body.symbol)
    if (
        body.time_in_force is TimeInForce.DAY
        and family(instrument.asset_class) is Family.EQUITY
        and clock is None
    ):
        return Expected("market_closed")
    last = clock.last_price if clock is not None else None
    if last is None:
        price = await session.scalar(
            select(Quote.price).where(Quote.instrument_id == instrument.id)
        )
        last = None if price is None else Decimal(repr(price))
    to_hold = body.qty
    if body.side is OrderSide.SELL:
        position = await position_qty(session, account.id, body.symbol)
        selling = sum(
            (o.qty - o.filled_qty for o in await _open_sells(session, account, body, replacing)),
            ZERO,
        )
        sellable = max(position - selling, ZERO)
        if body.qty <= sellable:
            return Expected()
        if not account.allow_short:
            return Expected("insufficient_position")
        to_hold = body.qty - sellable
    if body.type is OrderType.MARKET and last is None:
        return Expected("no_market_price")
    model = fill_model_for(account, instrument.asset_class, settings)
    hold = expected_hold(body.type, to_hold, body.limit_price, body.stop_price, last, model)
    free = account.cash + (replacing.hold if replacing is not None else ZERO)
    if hold > free:
        return Expected("insufficient_buying_power")
    return Expected(hold=hold)


async def _open_sells(
    session: AsyncSession, account: PaperAccount, body: OrderCreate, replacing: PaperOrder | None
) -> list[PaperOrder]:
    query = select(PaperOrder).where(
        PaperOrder.account_id == account.id,
        PaperOrder.symbol == body.symbol,
        PaperOrder.side == OrderSide.SELL,
        PaperOrder.status.in_(OPEN_ORDER_STATUSES),
    )
    if replacing is not None:
        query = query.where(PaperOrder.id != replacing.id)
    return list(await session.scalars(query))


@dataclass(frozen=True)
class ReplacePlan:
    """How a replace must end: refused with `error` (nothing changes), or a new order of
    `qty` holding `hold`, the old order's `released` hold given back."""

    error: type[Exception] | None = None
    qty: Decimal = ZERO
    hold: Decimal = ZERO
    released: Decimal = ZERO


async def replace_terms(
    session: AsyncSession, settings: Settings, account_id: str, order_id: str, body: OrderReplace
) -> ReplacePlan:
    account = await session.get(PaperAccount, account_id, populate_existing=True)
    old = await session.get(PaperOrder, order_id, populate_existing=True)
    assert account is not None and old is not None
    if old.status not in OPEN_ORDER_STATUSES:
        return ReplacePlan(OrderNotOpen)
    fields = body.model_fields_set
    for name in ("limit_price", "stop_price"):
        if name in fields and price_field_error(old.type, name, getattr(body, name)) is not None:
            return ReplacePlan(Unprocessable)
    terms = OrderCreate(
        symbol=old.symbol,
        side=old.side,
        type=old.type,
        qty=body.qty if "qty" in fields and body.qty is not None else old.qty - old.filled_qty,
        limit_price=body.limit_price if "limit_price" in fields else old.limit_price,
        stop_price=body.stop_price if "stop_price" in fields else old.stop_price,
        time_in_force=body.time_in_force or old.time_in_force,
    )
    expected = await expect_place(session, settings, account, terms, replacing=old)
    if expected.reject_reason is not None:
        return ReplacePlan(ReplaceRejected)
    return ReplacePlan(None, terms.qty, expected.hold, old.hold)
