"""`quantdesk ledger verify`: every invariant of the double-entry ledger, checked in SQL
(docs/paper-trading.md, "Ledger").

Each check is one aggregate query (GROUP BY in the database; Python only compares the
per-account / per-entry sums), so a million entries verify in about a second on SQLite:

- `entries_balance`: the legs of every posted entry sum to zero per currency;
- `no_drafts`: no entry is left `draft` (a committed draft is a posting that never finished);
- `cash_matches_legs` / `held_matches_legs`: an account's `cash` (free) and `held` columns
  equal the sums of its `cash` and `held` ledger books (so free + held = total cash);
- `balances_not_negative`: cash >= 0 and held >= 0;
- `held_matches_orders`: `held` equals the holds of the account's open orders, and a
  finished order holds nothing;
- `position_qty_matches_fills`: a position's qty equals the sum of its signed fills
  (buys +, sells -), and a symbol with fills but no position row nets to zero;
- `position_qty_matches_lots` / `cost_basis_matches_lots`: a position equals its open FIFO
  lots (qty, and cost = Σ q8(lot qty x lot price));
- `securities_match_lots`: each `securities:<SYMBOL>` book equals its open lots' cost.

The report also gives each account's equity = cash + held + Σ qty x last price (a position
the desk has no price for yet counts at its cost basis).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import case, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    EntryStatus,
    Fixed8,
    LedgerEntry,
    LedgerLeg,
    OrderSide,
    PaperAccount,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PositionLot,
    fixed8,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.accounts import position_values
from quantdesk.portfolio.money import Money

CHECKS = (
    "entries_balance",
    "no_drafts",
    "cash_matches_legs",
    "held_matches_legs",
    "balances_not_negative",
    "held_matches_orders",
    "position_qty_matches_fills",
    "position_qty_matches_lots",
    "cost_basis_matches_lots",
    "securities_match_lots",
)
MAX_LISTED = 1000  # violations listed in a report (all are counted)
_SECURITIES = ledger.securities("")
ZERO = Decimal(0)


class Violation(BaseModel):
    check: str
    account_id: str | None
    detail: str
    entry_id: int | None = None


class AccountEquity(BaseModel):
    account_id: str
    currency: str
    cash: Money
    held: Money
    positions_value: Money
    equity: Money


class LedgerReport(BaseModel):
    ok: bool
    checks: list[str]
    entries: int
    legs: int
    accounts: int
    violation_count: int
    violations: list[Violation]
    equity: list[AccountEquity]


@dataclass(frozen=True, slots=True)
class _Balances:
    currency: str
    cash: Decimal
    held: Decimal


class _Collector:
    def __init__(self) -> None:
        self.count = 0
        self.listed: list[Violation] = []

    def add(
        self, check: str, account_id: str | None, detail: str, entry_id: int | None = None
    ) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(
                Violation(check=check, account_id=account_id, detail=detail, entry_id=entry_id)
            )

    def compare(
        self,
        check: str,
        what: str,
        stored: dict[tuple[str, str], Decimal],
        expected: dict[tuple[str, str], Decimal],
    ) -> None:
        for key in sorted(stored.keys() | expected.keys()):
            have, want = stored.get(key, ZERO), expected.get(key, ZERO)
            if have != want:
                account_id, name = key
                label = f"{what} {name}".strip()
                self.add(check, account_id, f"{label} is {have} but should be {want}")


async def verify_ledger(session: AsyncSession) -> LedgerReport:
    """Run every check; the report lists violations (at most MAX_LISTED) and equities."""
    found = _Collector()
    entries, legs = await _check_entries(session, found)
    accounts = {
        account_id: _Balances(currency, cash, held)
        for account_id, currency, cash, held in await session.execute(
            select(PaperAccount.id, PaperAccount.currency, PaperAccount.cash, PaperAccount.held)
        )
    }
    books = await _book_sums(session)
    for account_id, row in accounts.items():
        if row.cash < 0 or row.held < 0:
            found.add("balances_not_negative", account_id, f"cash {row.cash}, held {row.held}")
    for book, check in ((ledger.CASH, "cash_matches_legs"), (ledger.HELD, "held_matches_legs")):
        stored = {
            (account_id, ""): row.cash if book == ledger.CASH else row.held
            for account_id, row in accounts.items()
        }
        expected = {
            (account_id, ""): total for (account_id, name), total in books.items() if name == book
        }
        found.compare(check, f"{book} balance", stored, expected)
    await _check_orders(session, accounts, found)
    lot_qty, lot_cost = await _lots(session)
    positions = await _positions(session)
    fills = await _signed_fills(session)
    found.compare(
        "position_qty_matches_fills", "position qty", {k: p[0] for k, p in positions.items()}, fills
    )
    found.compare(
        "position_qty_matches_lots",
        "position qty",
        {k: p[0] for k, p in positions.items()},
        lot_qty,
    )
    found.compare(
        "cost_basis_matches_lots", "cost basis", {k: p[1] for k, p in positions.items()}, lot_cost
    )
    securities = {
        (account_id, name.removeprefix(_SECURITIES)): total
        for (account_id, name), total in books.items()
        if name.startswith(_SECURITIES)
    }
    found.compare("securities_match_lots", "securities book", securities, lot_cost)
    values = await position_values(session, None)
    equity = [
        AccountEquity(
            account_id=account_id,
            currency=row.currency,
            cash=row.cash,
            held=row.held,
            positions_value=values[account_id],
            equity=row.cash + row.held + values[account_id],
        )
        for account_id, row in sorted(accounts.items())
    ]
    return LedgerReport(
        ok=found.count == 0,
        checks=list(CHECKS),
        entries=entries,
        legs=legs,
        accounts=len(accounts),
        violation_count=found.count,
        violations=found.listed,
        equity=equity,
    )


async def _check_entries(session: AsyncSession, found: _Collector) -> tuple[int, int]:
    """Balanced posted entries and no drafts; answers (entries, legs) counted."""
    entries = int(await session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)
    # One pass over the covering (entry_id, currency, amount) index: the unbalanced groups.
    unbalanced = (
        await session.execute(
            select(LedgerLeg.entry_id, LedgerLeg.currency, func.sum(LedgerLeg.amount))
            .group_by(LedgerLeg.entry_id, LedgerLeg.currency)
            .having(func.sum(LedgerLeg.amount) != ZERO)
        )
    ).all()
    legs = int(await session.scalar(select(func.count()).select_from(LedgerLeg)) or 0)
    if unbalanced:
        listed = unbalanced[: MAX_LISTED * 2]
        rows = await session.execute(
            select(LedgerEntry.id, LedgerEntry.account_id, LedgerEntry.status).where(
                LedgerEntry.id.in_({entry_id for entry_id, _, _ in listed})
            )
        )
        posted = {
            entry_id: account_id
            for entry_id, account_id, status in rows
            if status is EntryStatus.POSTED
        }
        for entry_id, currency, total in listed:
            if entry_id in posted:  # a draft's legs are reported as a draft
                detail = f"entry {entry_id} legs sum to {total} {currency}"
                found.add("entries_balance", posted[entry_id], detail, entry_id)
    # Drafts are rare (none in a sound ledger): the status index finds them without a scan.
    drafts = await session.execute(
        select(LedgerEntry.account_id, LedgerEntry.id)
        .where(LedgerEntry.status == EntryStatus.DRAFT)
        .order_by(LedgerEntry.id)
        .limit(MAX_LISTED)
    )
    for account_id, entry_id in drafts:
        found.add("no_drafts", account_id, f"entry {entry_id} is still a draft", entry_id)
    return entries, legs


async def _book_sums(session: AsyncSession) -> dict[tuple[str, str], Decimal]:
    """Σ amount per (account, book) of the cash, held and securities books."""
    rows = await session.execute(
        select(LedgerLeg.account_id, LedgerLeg.book, func.sum(LedgerLeg.amount))
        .where(
            or_(
                LedgerLeg.book.in_((ledger.CASH, ledger.HELD)),
                LedgerLeg.book.like(f"{_SECURITIES}%"),
            )
        )
        .group_by(LedgerLeg.account_id, LedgerLeg.book)
    )
    return {(account_id, book): total for account_id, book, total in rows}


async def _check_orders(
    session: AsyncSession, accounts: dict[str, _Balances], found: _Collector
) -> None:
    is_open = PaperOrder.status.in_(OPEN_ORDER_STATUSES)
    rows = await session.execute(
        select(PaperOrder.account_id, func.sum(PaperOrder.hold))
        .where(is_open)
        .group_by(PaperOrder.account_id)
    )
    holds = {(account_id, ""): total for account_id, total in rows}
    stored = {(account_id, ""): row.held for account_id, row in accounts.items()}
    found.compare("held_matches_orders", "held (vs open orders' holds)", stored, holds)
    leaks = await session.execute(
        select(PaperOrder.account_id, PaperOrder.id, PaperOrder.status, PaperOrder.hold)
        .where(~is_open, PaperOrder.hold != ZERO)
        .limit(MAX_LISTED)
    )
    for account_id, order_id, status, hold in leaks:
        found.add(
            "held_matches_orders", account_id, f"{status} order {order_id} still holds {hold}"
        )


async def _signed_fills(session: AsyncSession) -> dict[tuple[str, str], Decimal]:
    signed = case((PaperFill.side == OrderSide.BUY, PaperFill.qty), else_=-PaperFill.qty)
    rows = await session.execute(
        select(
            PaperFill.account_id, PaperFill.symbol, type_coerce(func.sum(signed), Fixed8())
        ).group_by(PaperFill.account_id, PaperFill.symbol)
    )
    return {(account_id, symbol): total for account_id, symbol, total in rows}


async def _positions(session: AsyncSession) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    rows = await session.execute(
        select(
            PaperPosition.account_id,
            PaperPosition.symbol,
            PaperPosition.qty,
            PaperPosition.cost_basis,
        )
    )
    return {(account_id, symbol): (qty, cost) for account_id, symbol, qty, cost in rows}


async def _lots(
    session: AsyncSession,
) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], Decimal]]:
    """Σ qty and Σ cost (each lot's q8(qty x price), as the engine books it) of the open lots.
    The cost is rounded lot by lot here: qty x price in 1e-8 units overflows BIGINT in SQL."""
    qty: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    cost: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    rows = await session.execute(
        select(PositionLot.account_id, PositionLot.symbol, PositionLot.qty, PositionLot.price)
    )
    for account_id, symbol, lot_qty, price in rows:
        qty[account_id, symbol] += lot_qty
        cost[account_id, symbol] += fixed8(lot_qty * price)
    return qty, cost
