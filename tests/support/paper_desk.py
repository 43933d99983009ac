"""Paper desk tests: accounts and orders written straight through the ledger (the way the
order service places them: account lock, hold posted, the symbol's clock seq remembered),
market events, and the desk's state read back."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.fills import estimate_hold, q8
from quantdesk.infra.events import MarketEvent, ReplayStatus
from quantdesk.models.portfolio import (
    EntryKind,
    LedgerLeg,
    MarketClock,
    OrderSide,
    OrderType,
    PaperAccount,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PositionLot,
    TimeInForce,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.desk_apply import asset_class_of
from quantdesk.portfolio.fill_models import fill_model_for
from tests.support.paper import assert_ledger_clean

DAY0 = 1704153600  # 2024-01-02 00:00 UTC
DAY = 86_400
# Slippage, fees and the volume cap off.
FRICTIONLESS: dict[str, Any] = {
    "slippage_bps": "0",
    "fee_bps": "0",
    "fee_min": "0",
    "max_participation": None,
}


def bar(
    symbol: str,
    day: int,
    o: float,
    h: float,
    low: float,
    c: float,
    v: float = 1_000_000.0,
    *,
    source: str = "live",
    hour: int = 0,
) -> MarketEvent:
    """A daily bar of `symbol` opening `day` days (+ `hour` hours) after 2024-01-02."""
    return MarketEvent(
        kind="bar",
        symbol=symbol,
        timeframe="1d",
        ts=DAY0 + day * DAY + hour * 3600,
        open=o,
        high=h,
        low=low,
        close=c,
        volume=v,
        source=source,  # type: ignore[arg-type]
    )


def replay_started(symbol: str, replay_id: str = "r1") -> ReplayStatus:
    return ReplayStatus(symbol, replay_id, "started", "1d", DAY0)


async def open_account(
    db: Database,
    user_id: int,
    cash: str = "100000",
    *,
    fill_model: dict[str, Any] | None = None,
    allow_short: bool = False,
) -> str:
    account_id = secrets.token_hex(16)
    async with db.session() as session:
        account = PaperAccount(
            id=account_id,
            user_id=user_id,
            name=f"desk {account_id[:6]}",
            currency="USD",
            allow_short=allow_short,
            fill_model=FRICTIONLESS if fill_model is None else fill_model,
            cash=Decimal(0),
            held=Decimal(0),
        )
        session.add(account)
        await session.flush()
        amount = Decimal(cash)
        await ledger.post(
            session,
            account,
            EntryKind.DEPOSIT,
            [ledger.Leg(ledger.CASH, amount), ledger.Leg(ledger.EXTERNAL, -amount)],
            memo="deposit",
        )
    return account_id


async def place(
    db: Database,
    settings: Settings,
    account_id: str,
    symbol: str,
    side: str,
    qty: str,
    *,
    type: str = "market",
    limit: str | None = None,
    stop: str | None = None,
    tif: str = "gtc",
) -> str:
    """An accepted order: the account locked, the buy's hold posted, the clock's seq kept."""
    order_id = secrets.token_hex(16)
    async with db.session() as session:
        await ledger.lock_account(session, account_id)
        account = await session.scalar(
            select(PaperAccount)
            .where(PaperAccount.id == account_id)
            .execution_options(populate_existing=True)
        )
        assert account is not None
        market = await session.get(MarketClock, symbol)
        model = fill_model_for(account, await asset_class_of(session, symbol), settings)
        limit_price = None if limit is None else Decimal(limit)
        stop_price = None if stop is None else Decimal(stop)
        hold = estimate_hold(
            side,  # type: ignore[arg-type]
            type,  # type: ignore[arg-type]
            Decimal(qty),
            limit_price,
            stop_price,
            None if market is None else market.last_price,
            model,
        )
        session.add(
            PaperOrder(
                id=order_id,
                account_id=account_id,
                symbol=symbol,
                side=OrderSide(side),
                type=OrderType(type),
                time_in_force=TimeInForce(tif),
                qty=Decimal(qty),
                limit_price=limit_price,
                stop_price=stop_price,
                hold=hold,
                accepted_seq=0 if market is None else market.seq,
                accepted_market_ts=None if market is None else market.ts,
            )
        )
        await session.flush()
        if hold > 0:
            await ledger.post(
                session,
                account,
                EntryKind.HOLD,
                [ledger.Leg(ledger.CASH, -hold), ledger.Leg(ledger.HELD, hold)],
                order_id=order_id,
            )
    return order_id


@dataclass(frozen=True)
class Books:
    cash: Decimal
    held: Decimal
    legs: dict[str, Decimal]


async def books(db: Database, account_id: str) -> Books:
    async with db.session() as session:
        account = await session.get(PaperAccount, account_id)
        assert account is not None
        rows = await session.execute(
            select(LedgerLeg.book, LedgerLeg.amount).where(LedgerLeg.account_id == account_id)
        )
        legs: dict[str, Decimal] = {}
        for book, amount in rows:
            legs[book] = legs.get(book, Decimal(0)) + amount
        return Books(account.cash, account.held, legs)


async def order_row(db: Database, order_id: str) -> PaperOrder:
    async with db.session() as session:
        order = await session.get(PaperOrder, order_id)
        assert order is not None
        return order


async def fills_of(db: Database, order_id: str) -> list[PaperFill]:
    async with db.session() as session:
        rows = await session.scalars(
            select(PaperFill).where(PaperFill.order_id == order_id).order_by(PaperFill.event_seq)
        )
        return list(rows)


async def position_of(db: Database, account_id: str, symbol: str) -> PaperPosition | None:
    async with db.session() as session:
        return await session.get(PaperPosition, (account_id, symbol))


async def lots_of(db: Database, account_id: str, symbol: str) -> list[tuple[Decimal, Decimal]]:
    async with db.session() as session:
        rows = await session.scalars(
            select(PositionLot)
            .where(PositionLot.account_id == account_id, PositionLot.symbol == symbol)
            .order_by(PositionLot.id)
        )
        return [(row.qty, row.price) for row in rows]


async def check_books(db: Database, account_id: str) -> None:
    """The desk's invariants for one account: balances = their ledger books, securities book
    = Σ open lot costs, position qty = Σ signed fills; and `verify_ledger` clean."""
    await assert_ledger_clean(db)
    state = await books(db, account_id)
    assert state.cash == state.legs.get(ledger.CASH, Decimal(0))
    assert state.held == state.legs.get(ledger.HELD, Decimal(0))
    async with db.session() as session:
        lots = list(
            await session.scalars(select(PositionLot).where(PositionLot.account_id == account_id))
        )
        fills = list(
            await session.scalars(select(PaperFill).where(PaperFill.account_id == account_id))
        )
        positions = list(
            await session.scalars(
                select(PaperPosition).where(PaperPosition.account_id == account_id)
            )
        )
    for position in positions:
        symbol = position.symbol
        cost = sum((q8(lot.qty * lot.price) for lot in lots if lot.symbol == symbol), Decimal(0))
        assert state.legs.get(ledger.securities(symbol), Decimal(0)) == cost
        assert position.cost_basis == cost
        signed = sum(
            (f.qty if f.side is OrderSide.BUY else -f.qty for f in fills if f.symbol == symbol),
            Decimal(0),
        )
        assert position.qty == signed
