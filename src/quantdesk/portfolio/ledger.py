"""Posting to the double-entry ledger (docs/paper-trading.md, "Ledger").

Every change of an account's money is one `post()`: a journal entry and its legs, inserted as
`draft` and then marked `posted`, which the database refuses unless the legs sum to zero per
currency (triggers in the migration). The account's `cash` and `held` columns move in the same
statement batch, and their CHECKs refuse an overdraw. Books:

- `cash`: free cash; `held`: cash held for open buy orders; `external`: the world (deposits,
  withdrawals); `securities:<SYMBOL>`: cost of the open lots; `fees`; `realized_pnl`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.models.portfolio import (
    EntryKind,
    EntryStatus,
    LedgerEntry,
    LedgerLeg,
    PaperAccount,
    fixed8,
)

CASH = "cash"
HELD = "held"
EXTERNAL = "external"
FEES = "fees"
REALIZED_PNL = "realized_pnl"


def securities(symbol: str) -> str:
    return f"securities:{symbol}"


@dataclass(frozen=True, slots=True)
class Leg:
    book: str
    amount: Decimal


class UnbalancedEntry(ValueError):
    """Raised before the database is asked: a bug, never user input."""


async def lock_account(session: AsyncSession, account_id: str) -> None:
    """Serialize writers of one account: the first write of the transaction (a row lock on
    PostgreSQL, the database write lock on SQLite), taken before balances are read."""
    await session.execute(
        update(PaperAccount)
        .where(PaperAccount.id == account_id)
        .values(version=PaperAccount.version + 1)
        .execution_options(synchronize_session=False)
    )


@dataclass(slots=True)
class StagedEntry:
    """An entry built and balanced, its balance moves already applied to the account object,
    waiting for `post_staged` to write it (with others of the same transaction)."""

    entry: LedgerEntry
    legs: list[Leg]
    currency: str


def stage(
    account: PaperAccount,
    kind: EntryKind,
    legs: Sequence[Leg],
    *,
    order_id: str | None = None,
    fill_id: str | None = None,
    memo: str | None = None,
    market_ts: int | None = None,
) -> StagedEntry:
    """Build one balanced entry of `account`'s currency and move `account.cash` /
    `account.held` by its `cash` / `held` legs at once (so checks that follow in the same
    transaction see the new balances). Nothing is written until `post_staged`."""
    legs = [Leg(leg.book, fixed8(leg.amount)) for leg in legs if leg.amount != 0]
    if sum((leg.amount for leg in legs), Decimal(0)) != 0:
        raise UnbalancedEntry(f"{kind} entry does not balance: {legs}")
    _move(account, legs, 1)
    entry = LedgerEntry(
        account_id=account.id,
        kind=kind,
        status=EntryStatus.DRAFT,
        order_id=order_id,
        fill_id=fill_id,
        memo=memo,
        market_ts=market_ts,
    )
    return StagedEntry(entry, legs, account.currency)


def _move(account: PaperAccount, legs: Sequence[Leg], sign: int) -> None:
    moves: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        if leg.book in (CASH, HELD):
            moves[leg.book] += sign * leg.amount
    if moves:
        account.cash = account.cash + moves[CASH]
        account.held = account.held + moves[HELD]


async def post_staged(session: AsyncSession, staged: Sequence[StagedEntry]) -> list[int]:
    """Write staged entries: all inserted as drafts (one statement), their legs (one), then all
    marked posted (the balance trigger checks each) with the accounts' new balances; answers
    the entry ids in order."""
    if not staged:
        return []
    session.add_all([item.entry for item in staged])
    await session.flush()
    rows = [
        {
            "entry_id": item.entry.id,
            "account_id": item.entry.account_id,
            "book": leg.book,
            "currency": item.currency,
            "amount": leg.amount,
        }
        for item in staged
        for leg in item.legs
    ]
    if rows:
        await session.execute(insert(LedgerLeg), rows)
    for item in staged:
        item.entry.status = EntryStatus.POSTED
    await session.flush()
    return [item.entry.id for item in staged]


async def post(
    session: AsyncSession,
    account: PaperAccount,
    kind: EntryKind,
    legs: Sequence[Leg],
    *,
    order_id: str | None = None,
    fill_id: str | None = None,
    memo: str | None = None,
    market_ts: int | None = None,
) -> int:
    """Post one balanced entry of `account`'s currency; answers the entry id.

    Moves `account.cash` / `account.held` by the entry's `cash` / `held` legs (the ORM object
    is updated too, so the caller sees the new balances).
    """
    staged = stage(
        account,
        kind,
        legs,
        order_id=order_id,
        fill_id=fill_id,
        memo=memo,
        market_ts=market_ts,
    )
    (entry_id,) = await post_staged(session, [staged])
    return entry_id
