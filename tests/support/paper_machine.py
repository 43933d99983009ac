"""Helpers of the desk state machine (tests/portfolio/test_desk_state_machine.py): what one
account looks like in the database (`snapshot`, for "this changed nothing"), the bars it is
fed, the reject a placement should get, and the invariants checked after every step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.engine.fills import FillModel, estimate_hold
from quantdesk.infra.events import MarketEvent
from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    EntryStatus,
    Fixed8,
    LedgerEntry,
    LedgerLeg,
    MarketClock,
    OrderSide,
    OrderStatus,
    OrderType,
    PaperAccount,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PositionLot,
    fixed8,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.accounts import position_values
from quantdesk.portfolio.verify import verify_ledger

ZERO = Decimal(0)
CENT = Decimal("0.01")
LIMITED = (OrderType.LIMIT, OrderType.STOP_LIMIT)
STOPPED = (OrderType.STOP, OrderType.STOP_LIMIT)


def cents(value: Decimal) -> Decimal:
    return max(value.quantize(CENT, rounding=ROUND_HALF_EVEN), CENT)


def bar_event(
    symbol: str,
    ts: int,
    last: Decimal,
    *,
    drift: int,
    move: int,
    up: int,
    down: int,
    volume: float,
    quote: bool,
) -> MarketEvent:
    """A bar opening `drift`/1000 away from `last`, closing `move`/1000 from its open, with
    wicks of `up` and `down`/1000 (cents, low at least 0.01); a quote is one price."""
    step = Decimal("0.001")
    open_ = cents(last * (1 + drift * step))
    close = cents(open_ * (1 + move * step))
    high = cents(max(open_, close) * (1 + up * step))
    low = cents(min(open_, close) * (1 - down * step))
    if quote:
        open_ = high = low = close
    return MarketEvent(
        kind="quote" if quote else "bar",
        symbol=symbol,
        timeframe=None if quote else "1h",
        ts=ts,
        open=float(open_),
        high=float(high),
        low=float(low),
        close=float(close),
        volume=0.0 if quote else volume,
        source="live",
    )


def full_bar(symbol: str, ts: int, last: Decimal, drift: int, move: int, wick: int) -> MarketEvent:
    """A bar of full volume with wicks of `wick`/1000 on both sides."""
    return bar_event(
        symbol, ts, last, drift=drift, move=move, up=wick, down=wick, volume=1e6, quote=False
    )


def bar_range(event: MarketEvent) -> tuple[Decimal, Decimal]:
    """The event's [low, high] as the desk reads it (a quote: its one price)."""
    if event.kind == "quote":
        price = fixed8(Decimal(repr(event.close)))
        return price, price
    return fixed8(Decimal(repr(event.low))), fixed8(Decimal(repr(event.high)))


@dataclass(frozen=True)
class Snapshot:
    """Everything of one account and its symbol a market event or a refused request could
    change: balances and lock version, counts of fills / ledger entries / lots, the clock,
    and per order status the count, filled qty, hold and latest update."""

    figures: tuple[object, ...]
    orders: tuple[tuple[object, ...], ...]


def _count(model: Any, account_id: str) -> Any:
    return (
        select(func.count())
        .select_from(model)
        .where(model.account_id == account_id)
        .scalar_subquery()
    )


async def snapshot(session: AsyncSession, account_id: str, symbol: str) -> Snapshot:
    """Two queries (cheap enough to take around every refused request)."""
    clock = select(MarketClock).where(MarketClock.symbol == symbol)
    figures = (
        await session.execute(
            select(
                PaperAccount.cash,
                PaperAccount.held,
                PaperAccount.version,
                _count(PaperFill, account_id),
                _count(LedgerEntry, account_id),
                _count(PositionLot, account_id),
                clock.with_only_columns(MarketClock.seq).scalar_subquery(),
                clock.with_only_columns(MarketClock.ts).scalar_subquery(),
                clock.with_only_columns(MarketClock.last_price).scalar_subquery(),
                clock.with_only_columns(MarketClock.prev_close).scalar_subquery(),
            ).where(PaperAccount.id == account_id)
        )
    ).one()
    orders = await session.execute(
        select(
            PaperOrder.status,
            func.count(),
            type_coerce(func.sum(PaperOrder.filled_qty), Fixed8()),
            type_coerce(func.sum(PaperOrder.hold), Fixed8()),
            func.max(PaperOrder.updated_at),
        )
        .where(PaperOrder.account_id == account_id)
        .group_by(PaperOrder.status)
        .order_by(PaperOrder.status)
    )
    return Snapshot(tuple(figures), tuple(tuple(row) for row in orders))


async def position_qty(session: AsyncSession, account_id: str, symbol: str) -> Decimal:
    position = await session.get(PaperPosition, (account_id, symbol))
    return ZERO if position is None else position.qty


async def check_fills_of_event(
    session: AsyncSession, account_id: str, seq: int, event: MarketEvent
) -> int:
    """Every fill booked by the event `seq`: inside the bar, never beyond its order's limit
    (nor on the wrong side of its stop), on an order accepted before the event. Answers how
    many there were."""
    low, high = bar_range(event)
    rows = (
        await session.execute(
            select(PaperFill, PaperOrder)
            .join(PaperOrder, PaperOrder.id == PaperFill.order_id)
            .where(PaperFill.account_id == account_id, PaperFill.event_seq == seq)
        )
    ).all()
    for fill, order in rows:
        price = fill.price
        assert low <= price <= high, (fill.price, low, high)
        assert order.accepted_seq < seq, "a fill on the bar the order was accepted at"
        assert fill.market_ts == event.ts
        buy = order.side is OrderSide.BUY
        if order.type in LIMITED:
            assert order.limit_price is not None
            assert price <= order.limit_price if buy else price >= order.limit_price, (
                order.type,
                order.side,
                price,
                order.limit_price,
            )
        if order.type is OrderType.STOP:
            assert order.stop_price is not None
            assert price >= order.stop_price if buy else price <= order.stop_price
        assert fill.qty > 0 and fill.notional == fixed8(fill.qty * price)
    return len(rows)


def expected_hold(
    type_: OrderType,
    qty: Decimal,
    limit: Decimal | None,
    stop: Decimal | None,
    last: Decimal | None,
    model: FillModel,
) -> Decimal:
    """The cash an accepted order holds for `qty` bought (a buy, or the short part of a
    sell)."""
    return estimate_hold("buy", type_.value, qty, limit, stop, last, model)


async def check_account(
    session: AsyncSession, account_id: str, symbol: str, net_deposits: Decimal
) -> None:
    """Every invariant of `verify_ledger`, recomputed for the one account (and symbol) a
    sequence touches in five plain queries, plus the model's: every cent of cash is a
    deposit, a fill or a fee; each order's filled figures are the sums of its fills; no order
    is both filled and canceled, none filled beyond its qty."""
    position = select(PaperPosition.qty, PaperPosition.cost_basis).where(
        PaperPosition.account_id == account_id, PaperPosition.symbol == symbol
    )
    cash, held, qty, basis = (
        await session.execute(
            select(
                PaperAccount.cash,
                PaperAccount.held,
                position.with_only_columns(PaperPosition.qty).scalar_subquery(),
                position.with_only_columns(PaperPosition.cost_basis).scalar_subquery(),
            ).where(PaperAccount.id == account_id)
        )
    ).one()
    qty, basis = qty or ZERO, basis or ZERO
    assert cash >= 0 and held >= 0, (cash, held)
    legs = (
        await session.execute(
            select(LedgerLeg.entry_id, LedgerLeg.book, LedgerLeg.amount, LedgerEntry.status)
            .join(LedgerEntry, LedgerEntry.id == LedgerLeg.entry_id)
            .where(LedgerLeg.account_id == account_id)
        )
    ).all()
    books: dict[str, Decimal] = {}
    entries: dict[int, Decimal] = {}
    for leg in legs:
        assert leg.status is EntryStatus.POSTED, leg
        books[leg.book] = books.get(leg.book, ZERO) + leg.amount
        entries[leg.entry_id] = entries.get(leg.entry_id, ZERO) + leg.amount
    assert not [entry for entry, total in entries.items() if total != 0], entries
    assert (cash, held) == (books.get(ledger.CASH, ZERO), books.get(ledger.HELD, ZERO))
    orders = (
        await session.execute(select(*ORDER_COLUMNS).where(PaperOrder.account_id == account_id))
    ).all()
    fills = (
        await session.execute(
            select(
                PaperFill.order_id,
                PaperFill.side,
                PaperFill.qty,
                PaperFill.notional,
                PaperFill.fee,
            ).where(PaperFill.account_id == account_id)
        )
    ).all()
    assert held == sum((o.hold for o in orders if o.status in OPEN_ORDER_STATUSES), ZERO)
    _check_orders(orders, fills)
    bought = sum((f.notional for f in fills if f.side is OrderSide.BUY), ZERO)
    sold = sum((f.notional for f in fills if f.side is OrderSide.SELL), ZERO)
    fees = sum((f.fee for f in fills), ZERO)
    assert cash + held == net_deposits - bought + sold - fees, (cash, held, net_deposits)
    assert books.get(ledger.EXTERNAL, ZERO) == -net_deposits
    assert books.get(ledger.FEES, ZERO) == fees
    signed = sum((f.qty if f.side is OrderSide.BUY else -f.qty for f in fills), ZERO)
    lots = (
        await session.execute(
            select(PositionLot.qty, PositionLot.price).where(
                PositionLot.account_id == account_id, PositionLot.symbol == symbol
            )
        )
    ).all()
    cost = sum((fixed8(lot.qty * lot.price) for lot in lots), ZERO)
    assert qty == signed == sum((lot.qty for lot in lots), ZERO), (qty, signed, lots)
    assert basis == cost == books.get(ledger.securities(symbol), ZERO), (basis, cost)


ORDER_COLUMNS = (
    PaperOrder.id,
    PaperOrder.status,
    PaperOrder.qty,
    PaperOrder.filled_qty,
    PaperOrder.filled_notional,
    PaperOrder.fees,
    PaperOrder.hold,
    PaperOrder.filled_at,
    PaperOrder.canceled_at,
    PaperOrder.reject_reason,
)


def _check_orders(orders: Sequence[Any], fills: Sequence[Any]) -> None:
    by_order: dict[str, list[Any]] = {}
    for fill in fills:
        by_order.setdefault(fill.order_id, []).append(fill)
    for order in orders:
        mine = by_order.get(order.id, [])
        assert ZERO <= order.filled_qty <= order.qty, order
        assert order.filled_at is None or order.canceled_at is None, order
        assert order.hold >= 0, order
        assert order.filled_qty == sum((f.qty for f in mine), ZERO), order
        assert order.filled_notional == sum((f.notional for f in mine), ZERO), order
        assert order.fees == sum((f.fee for f in mine), ZERO), order
        if order.status is OrderStatus.FILLED:
            assert order.filled_qty == order.qty and order.filled_at is not None, order
        if order.status in OPEN_ORDER_STATUSES:
            assert order.filled_qty < order.qty, order
        else:
            assert order.hold == 0, order
        if order.status is OrderStatus.REJECTED:
            assert not mine and order.reject_reason is not None, order
        if order.status is OrderStatus.CANCELED:
            assert order.canceled_at is not None and order.filled_qty < order.qty, order


async def check_whole_ledger(session: AsyncSession, account_id: str, symbol: str) -> None:
    """`quantdesk ledger verify` over the whole database is clean, and its equity of the
    account is cash + held + q8(qty x last price)."""
    report = await verify_ledger(session)
    assert report.ok, report.violations
    cash, held = (
        await session.execute(
            select(PaperAccount.cash, PaperAccount.held).where(PaperAccount.id == account_id)
        )
    ).one()
    qty = await position_qty(session, account_id, symbol)
    last = await session.scalar(select(MarketClock.last_price).where(MarketClock.symbol == symbol))
    [equity] = [row for row in report.equity if row.account_id == account_id]
    if last is not None:
        assert equity.equity == cash + held + (fixed8(qty * last) if qty else ZERO)
    value = (await position_values(session, [account_id]))[account_id]
    if qty and last is not None:
        assert value == qty * last
