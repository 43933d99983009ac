"""Processing ONE market event in one transaction (docs/paper-trading.md, "Fills").

1. Advance the symbol's market clock (`clock.advance`, an atomic conditional UPDATE); when it
   does not advance (a duplicate, an older event, another mode's event) nothing else happens.
2. The open orders of the symbol accepted before this event (`accepted_seq < seq`) are
   eligible, grouped by account. Per account, in account-id order: the account's write lock
   (`ledger.lock_account`, as placements take it), its balances re-read, its orders in time
   priority (created_at, id) matched against the bar by the engine (`match_orders`, with the
   account's fill model for the instrument's asset class), and every outcome booked
   (`desk_book.book_outcome`).
3. Equity points: a `fill` point for every account that filled, a `day` point for every
   holder of the symbol (desk_equity.py).
4. Price alerts of the symbol are evaluated at the event's close.

The caller commits, then publishes `updates` and `alerts` (never before the data is visible).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.engine.fills import AccountBook, OrderState, match_orders
from quantdesk.infra.events import MarketEvent
from quantdesk.models.marketdata import AssetClass, Instrument
from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    PaperAccount,
    PaperOrder,
)
from quantdesk.portfolio import clock, ledger
from quantdesk.portfolio.alerts import price_alert_service
from quantdesk.portfolio.desk_book import book_outcome
from quantdesk.portfolio.desk_equity import FILL, record_day_points, record_point
from quantdesk.portfolio.events import AlertTriggered, OrderUpdate
from quantdesk.portfolio.fill_models import fill_model_for


@dataclass(slots=True)
class Applied:
    """What one event did. `seq` is None when the clock did not advance (skipped)."""

    seq: int | None = None
    fills: int = 0
    updates: list[OrderUpdate] = field(default_factory=list)
    alerts: list[AlertTriggered] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return self.seq is None


def order_state(order: PaperOrder) -> OrderState:
    """The engine's view of an open order (qty = what remains)."""
    return OrderState(
        order_id=order.id,
        side="buy" if order.side.value == "buy" else "sell",
        type=order.type.value,
        tif=order.time_in_force.value,
        qty=order.qty - order.filled_qty,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        triggered=order.triggered,
        session_date=order.session_date,
        hold=order.hold,
    )


async def asset_class_of(session: AsyncSession, symbol: str) -> AssetClass:
    """The instrument's asset class (an unknown symbol trades like an equity)."""
    found = await session.scalar(select(Instrument.asset_class).where(Instrument.symbol == symbol))
    return found or AssetClass.EQUITY


def _eligible(symbol: str, seq: int):  # type: ignore[no-untyped-def]
    return (
        PaperOrder.symbol == symbol,
        PaperOrder.status.in_(OPEN_ORDER_STATUSES),
        PaperOrder.accepted_seq < seq,
    )


async def apply_event(session: AsyncSession, event: MarketEvent, settings: Settings) -> Applied:
    step = await clock.advance(session, event)
    if step is None:
        return Applied()
    applied = Applied(seq=step.seq)
    account_ids = sorted(
        set(
            await session.scalars(
                select(PaperOrder.account_id).where(*_eligible(step.symbol, step.seq))
            )
        )
    )
    filled_accounts: list[str] = []
    asset_class = await asset_class_of(session, step.symbol) if account_ids else None
    for account_id in account_ids:
        assert asset_class is not None
        await ledger.lock_account(session, account_id)
        account = await session.scalar(
            select(PaperAccount)
            .where(PaperAccount.id == account_id)
            .execution_options(populate_existing=True)
        )
        if account is None:
            continue
        orders = list(
            await session.scalars(
                select(PaperOrder)
                .where(PaperOrder.account_id == account_id, *_eligible(step.symbol, step.seq))
                .order_by(PaperOrder.created_at, PaperOrder.id)
                .execution_options(populate_existing=True)
            )
        )
        if not orders:
            continue
        model = fill_model_for(account, asset_class, settings)
        outcomes = match_orders(
            [order_state(order) for order in orders], step.bar, AccountBook(account.cash, model)
        )
        filled = False
        for order, outcome in zip(orders, outcomes, strict=True):
            booked = await book_outcome(session, account, order, outcome, step)
            if booked.update is not None:
                applied.updates.append(booked.update)
            if booked.filled:
                applied.fills += 1
                filled = True
        await session.flush()
        if filled:
            filled_accounts.append(account_id)
            await record_point(session, account, step.ts, FILL)
    await record_day_points(session, step.symbol, step.ts, filled_accounts)
    applied.alerts.extend(await _evaluate_alerts(session, step))
    return applied


async def _evaluate_alerts(session: AsyncSession, step: clock.ClockStep) -> list[AlertTriggered]:
    fired = await price_alert_service.evaluate(
        session, symbol=step.symbol, ts=step.ts, price=step.price
    )
    return list(fired)
