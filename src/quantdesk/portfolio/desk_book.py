"""Booking what one market event did to one order (docs/paper-trading.md, "Fills" and
"Positions and P&L").

For an outcome with a fill of qty q at price p (notional N = q x p, fee F):

1. the fill row (`paper_fills`, UNIQUE (order_id, event_seq): the same event can never fill
   the same order twice);
2. `release` entry: held -R, cash +R, R = the engine's `hold_release` (this fill's share of
   the order's hold, all of it when the order ends);
3. `fill` entry: cash -N (buy) / +N (sell), `securities:<SYMBOL>` + (cost of the lot opened -
   cost of the lots closed), `realized_pnl` - realized P&L (FIFO lots; the three legs sum to
   zero exactly, `engine.fills.apply_fill_to_lots`);
4. `fee` entry (when F > 0): cash -F, fees +F;
5. the FIFO lots (`position_lots`), the position (qty, cost basis = Σ open lot costs, realized
   P&L accumulated, fees apart) and the order (filled qty / notional / average price, fees,
   hold, status, timestamps).

An outcome without a fill that ends the order (canceled, expired) releases its whole hold.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.engine.fills import Fill, Lot, OrderOutcome, Side, apply_fill_to_lots, q8
from quantdesk.models.base import utcnow
from quantdesk.models.portfolio import (
    EntryKind,
    OrderSide,
    OrderStatus,
    PaperAccount,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PositionLot,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.clock import ClockStep
from quantdesk.portfolio.events import OrderUpdate
from quantdesk.portfolio.order_updates import order_update

_EVENTS = {"filled": "fill", "canceled": "canceled", "expired": "expired"}


@dataclass(frozen=True, slots=True)
class Booked:
    """What booking one outcome changed: the update to publish (None when nothing visible
    changed) and whether a fill was booked."""

    update: OrderUpdate | None
    filled: bool


async def book_outcome(
    session: AsyncSession,
    account: PaperAccount,
    order: PaperOrder,
    outcome: OrderOutcome,
    step: ClockStep,
) -> Booked:
    order.triggered = outcome.triggered
    order.session_date = outcome.session_date
    fill = outcome.fill
    release = outcome.hold_release
    fill_id = None
    if fill is not None:
        fill_id = secrets.token_hex(16)
        realized = await _apply_lots(session, order, fill, fill_id, step)
        session.add(
            PaperFill(
                id=fill_id,
                order_id=order.id,
                account_id=account.id,
                symbol=order.symbol,
                side=order.side,
                qty=fill.qty,
                price=fill.price,
                notional=fill.notional,
                fee=fill.fee,
                realized_pnl=realized.pnl,
                event_seq=step.seq,
                market_ts=step.ts,
            )
        )
        await session.flush()
    if release > 0:
        await ledger.post(
            session,
            account,
            EntryKind.RELEASE,
            [ledger.Leg(ledger.HELD, -release), ledger.Leg(ledger.CASH, release)],
            order_id=order.id,
            fill_id=fill_id,
            memo="hold released",
            market_ts=step.ts,
        )
        order.hold = order.hold - release
    if fill is not None:
        assert fill_id is not None
        buy = order.side is OrderSide.BUY
        await ledger.post(
            session,
            account,
            EntryKind.FILL,
            [
                ledger.Leg(ledger.CASH, -fill.notional if buy else fill.notional),
                ledger.Leg(ledger.securities(order.symbol), realized.securities),
                ledger.Leg(ledger.REALIZED_PNL, -realized.pnl),
            ],
            order_id=order.id,
            fill_id=fill_id,
            memo=f"{order.side.value} {fill.qty} {order.symbol} @ {fill.price}",
            market_ts=step.ts,
        )
        if fill.fee > 0:
            await ledger.post(
                session,
                account,
                EntryKind.FEE,
                [ledger.Leg(ledger.CASH, -fill.fee), ledger.Leg(ledger.FEES, fill.fee)],
                order_id=order.id,
                fill_id=fill_id,
                memo="fee",
                market_ts=step.ts,
            )
        order.filled_qty = order.filled_qty + fill.qty
        order.filled_notional = order.filled_notional + fill.notional
        order.filled_avg_price = q8(order.filled_notional / order.filled_qty)
        order.fees = order.fees + fill.fee
    status_changed = _transition(order, outcome)
    if fill is None and not status_changed:
        return Booked(None, False)
    event = _EVENTS[outcome.status] if status_changed else "partial_fill"
    update = order_update(order, event, fill=fill, market_ts=step.ts, reason=outcome.reason)
    return Booked(update, fill is not None)


def _transition(order: PaperOrder, outcome: OrderOutcome) -> bool:
    """Move the order's status; True when it ended (filled, canceled, expired)."""
    now = utcnow()
    order.updated_at = now
    if outcome.status == "open":
        if outcome.fill is not None:
            order.status = OrderStatus.PARTIALLY_FILLED
        return False
    if outcome.status == "filled":
        order.status = OrderStatus.FILLED
        order.filled_at = now
    elif outcome.status == "canceled":
        order.status = OrderStatus.CANCELED
        order.canceled_at = now
    else:
        order.status = OrderStatus.EXPIRED
        order.expired_at = now
    order.reason_detail = outcome.reason
    return True


@dataclass(frozen=True, slots=True)
class _Realized:
    pnl: Decimal
    securities: Decimal  # the securities book's move: cost opened - cost closed


async def _apply_lots(
    session: AsyncSession, order: PaperOrder, fill: Fill, fill_id: str, step: ClockStep
) -> _Realized:
    """FIFO: the fill closes the oldest opposite lots, the rest opens a lot; the position
    follows."""
    rows = list(
        await session.scalars(
            select(PositionLot)
            .where(PositionLot.account_id == order.account_id, PositionLot.symbol == order.symbol)
            .order_by(PositionLot.id)
        )
    )
    lots = [Lot(row.fill_id, row.qty, row.price) for row in rows]
    side: Side = "buy" if order.side is OrderSide.BUY else "sell"
    result = apply_fill_to_lots(lots, fill_id, side, fill.qty, fill.price)
    remaining = {lot.fill_id: lot for lot in result.lots}
    gone = [row.id for row in rows if row.fill_id not in remaining]
    if gone:
        await session.execute(
            delete(PositionLot)
            .where(PositionLot.id.in_(gone))
            .execution_options(synchronize_session="fetch")
        )
    for row in rows:
        kept = remaining.get(row.fill_id)
        if kept is not None and kept.qty != row.qty:
            row.qty = kept.qty
    opened = remaining.get(fill_id)
    if opened is not None:
        session.add(
            PositionLot(
                account_id=order.account_id,
                symbol=order.symbol,
                fill_id=fill_id,
                qty=opened.qty,
                price=opened.price,
                market_ts=step.ts,
            )
        )
    position = await session.get(PaperPosition, (order.account_id, order.symbol))
    if position is None:
        position = PaperPosition(
            account_id=order.account_id,
            symbol=order.symbol,
            qty=Decimal(0),
            cost_basis=Decimal(0),
            realized_pnl=Decimal(0),
        )
        session.add(position)
    position.qty = sum((lot.qty for lot in result.lots), Decimal(0))
    position.cost_basis = sum((lot.cost for lot in result.lots), Decimal(0))
    position.realized_pnl = position.realized_pnl + result.realized_pnl
    return _Realized(result.realized_pnl, result.cost_opened - result.cost_closed)
