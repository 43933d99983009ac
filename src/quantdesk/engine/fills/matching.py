"""Matching one account's open orders of one symbol against one market event, and the
cash a buy order holds while it rests.

Rules applied by ``match_orders`` on top of the price rules (``rules.py``), per order in
time priority:

1. day orders: ``session_date`` is fixed to the UTC date of the order's first eligible
   event; an event of a later UTC date expires the order before any fill attempt.
2. The price rule decides whether the order fills on this event and at what price
   (a stop-limit triggered here is evaluated as a limit from the next event).
3. Participation cap: the orders share ``max_participation * volume`` of this bar in
   time priority (no cap for volume 0 or ``max_participation`` None); a fill beyond it
   is partial, the quantity rounded down to the model's precision.
4. ioc and fok orders are resolved on their first eligible event (every ioc/fok order
   given here is at its first one): ioc fills what it can and cancels the rest; fok
   fills its whole quantity or nothing. An ioc/fok stop-limit therefore never fills (its
   limit part starts on the next event): the caller should reject that combination.
5. Cash: a buy fill costs notional + fee and never exceeds what the account can pay,
   the order's hold plus free cash. Beyond that the fill quantity is reduced (rounded
   down to the precision) and the rest of the order canceled; nothing payable cancels
   the order. Both give reason ``insufficient_buying_power``. Cash used (or, for sells,
   received) by one order's fill changes what later orders in the same call can use. A
   sell whose fee exceeds its proceeds needs the difference in free cash.
6. Fees: ``max(fee_min, notional * fee_bps / 10_000)`` per fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from quantdesk.engine.fills.orders import (
    DAY_SESSION_ENDED,
    EIGHT_DP,
    FOK_NOT_FILLED,
    INSUFFICIENT_BUYING_POWER,
    IOC_REMAINDER,
    ZERO,
    AccountBook,
    BarPrices,
    Fill,
    FillModel,
    OrderOutcome,
    OrderState,
    OrderType,
    Side,
)
from quantdesk.engine.fills.rules import BPS, fill_price, floor_qty, make_fill


def utc_date(ts: int) -> date:
    """The UTC calendar date of a Unix time in seconds."""
    return datetime.fromtimestamp(ts, tz=UTC).date()


class _Pass:
    """What the orders of one call share: free cash and the bar's remaining capacity."""

    __slots__ = ("capacity", "free")

    def __init__(self, free: Decimal, capacity: Decimal | None) -> None:
        self.free = free
        self.capacity = capacity


def match_orders(
    orders: Sequence[OrderState], bar: BarPrices, book: AccountBook
) -> list[OrderOutcome]:
    """One outcome per order, in the given (time priority) order: the eligible open
    orders of one account for one symbol against one market event ``bar``."""
    model = book.model
    cap = model.max_participation
    shared = _Pass(book.free_cash, None if cap is None or bar.volume == 0 else cap * bar.volume)
    bar_date = utc_date(bar.ts)
    return [_match_one(order, bar, bar_date, model, shared) for order in orders]


def _end(
    order: OrderState,
    status: str,
    reason: str,
    triggered: bool,
    session: date | None,
    fill: Fill | None = None,
) -> OrderOutcome:
    assert status in ("canceled", "expired")
    return OrderOutcome(
        order.order_id,
        fill,
        "canceled" if status == "canceled" else "expired",
        triggered,
        session,
        reason,
        order.hold,
    )


def _match_one(
    order: OrderState, bar: BarPrices, bar_date: date, model: FillModel, shared: _Pass
) -> OrderOutcome:
    session = order.session_date
    if order.tif == "day":
        if session is not None and bar_date > session:
            return _end(order, "expired", DAY_SESSION_ENDED, order.triggered, session)
        session = session or bar_date
    price, triggered = fill_price(order, bar, model)
    unfilled = IOC_REMAINDER if order.tif == "ioc" else FOK_NOT_FILLED
    immediate = order.tif in ("ioc", "fok")
    qty = order.qty
    fillable = ZERO
    if price is not None:
        fillable = qty if shared.capacity is None else min(qty, floor_qty(shared.capacity, model))
    if fillable <= 0 or (order.tif == "fok" and fillable < qty):
        if immediate:
            return _end(order, "canceled", unfilled, triggered, session)
        return OrderOutcome(order.order_id, None, "open", triggered, session, None, ZERO)
    assert price is not None
    ends = fillable == qty or order.tif == "ioc"
    short_of_cash = False
    fill = make_fill(order.order_id, fillable, price, model)
    if order.side == "buy":
        cost = fill.notional + fill.fee
        if cost > order.hold + shared.free:
            payable = _payable_qty(price, order.hold + shared.free, fillable, model)
            if payable <= 0 or order.tif == "fok":
                return _end(order, "canceled", INSUFFICIENT_BUYING_POWER, triggered, session)
            fill = make_fill(order.order_id, payable, price, model)
            cost = fill.notional + fill.fee
            ends = short_of_cash = True
        if ends:
            release = order.hold
        else:  # the hold's share of the filled part, more if free cash cannot cover it
            share = (order.hold * fill.qty / qty).quantize(EIGHT_DP, rounding=ROUND_DOWN)
            release = min(order.hold, max(share, cost - shared.free))
        shared.free += release - cost
    else:
        release = order.hold if ends else ZERO
        received = release + fill.notional - fill.fee
        if shared.free + received < 0:  # a minimum fee above the proceeds
            return _end(order, "canceled", INSUFFICIENT_BUYING_POWER, triggered, session)
        shared.free += received
    if shared.capacity is not None:
        shared.capacity -= fill.qty
    if fill.qty == qty:
        return OrderOutcome(order.order_id, fill, "filled", triggered, session, None, release)
    if short_of_cash:
        return _end(order, "canceled", INSUFFICIENT_BUYING_POWER, triggered, session, fill)
    if order.tif == "ioc":
        return _end(order, "canceled", IOC_REMAINDER, triggered, session, fill)
    return OrderOutcome(order.order_id, fill, "open", triggered, session, None, release)


def _payable_qty(price: Decimal, available: Decimal, upper: Decimal, model: FillModel) -> Decimal:
    """The largest quantity <= ``upper`` (in the model's steps) whose notional + fee at
    ``price`` is at most ``available``."""

    def cost(qty: Decimal) -> Decimal:
        fill = make_fill("", qty, price, model)
        return fill.notional + fill.fee

    if price <= 0:
        return upper if cost(upper) <= available else ZERO
    # notional + max(fee_min, notional * r) <= A  <=>  notional <= min(A - fee_min, A / (1 + r))
    most = min(available - model.fee_min, available / (1 + model.fee_bps / BPS))
    qty = min(upper, floor_qty(most / price, model))
    step = model.qty_step
    while qty > 0 and cost(qty) > available:  # 8-decimal rounding of notional and fee
        qty -= step
    return max(qty, ZERO)


def estimate_hold(
    side: Side,
    type: OrderType,
    qty: Decimal,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    last_price: Decimal | None,
    model: FillModel,
) -> Decimal:
    """The cash an open BUY order holds (0 for sells): ``qty`` at an estimated price,
    plus the fee estimate.

    Price estimate: the limit for limit and stop-limit orders, max(stop, last) for stops
    (the stop alone when there is no last price), the last price for market orders; plus
    slippage for market and stop orders. Notional and fee are rounded UP to 8 decimals,
    so a limit order's hold always covers its fill at or below the limit (one minimum
    fee; partial fills that each pay ``fee_min`` may need free cash as well).
    """
    if side == "sell":
        return ZERO
    if type in ("limit", "stop_limit"):
        if limit_price is None:
            raise ValueError(f"a {type} order needs limit_price")
        price = limit_price
    elif type == "stop":
        if stop_price is None:
            raise ValueError("a stop order needs stop_price")
        price = stop_price if last_price is None else max(stop_price, last_price)
    else:
        if last_price is None:
            raise ValueError("a market order's hold needs the last price")
        price = last_price
    if type in ("market", "stop"):
        price = price * (1 + model.slippage_bps / BPS)
    notional = (qty * price).quantize(EIGHT_DP, rounding=ROUND_CEILING)
    fee = max(model.fee_min, notional * model.fee_bps / BPS).quantize(
        EIGHT_DP, rounding=ROUND_CEILING
    )
    return notional + fee
