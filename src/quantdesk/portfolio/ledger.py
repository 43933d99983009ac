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
from typing import cast

from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.models.base import utcnow
from quantdesk.models.portfolio import (
    EntryKind,
    EntryStatus,
    LedgerEntry,
    LedgerLeg,
    PaperAccount,
    fixed8,
)

_ENTRIES = cast(Table, LedgerEntry.__table__)
_LEGS = cast(Table, LedgerLeg.__table__)

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


@dataclass(frozen=True, slots=True)
class StagedEntry:
    """An entry built and balanced, its balance moves already applied to the account object,
    waiting for `post_staged` to write it (with others of the same transaction)."""

    account_id: str
    currency: str
    kind: EntryKind
    legs: list[Leg]
    order_id: str | None
    fill_id: str | None
    memo: str | None
    market_ts: int | None


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
    moves: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        if leg.book in (CASH, HELD):
            moves[leg.book] += leg.amount
    if moves:
        account.cash = account.cash + moves[CASH]
        account.held = account.held + moves[HELD]
    return StagedEntry(account.id, account.currency, kind, legs, order_id, fill_id, memo, market_ts)


async def post_staged(session: AsyncSession, staged: Sequence[StagedEntry]) -> list[int]:
    """Write staged entries whatever their number in four statements: the entries inserted as
    drafts, their legs, all of them marked posted (the balance trigger checks each), and the
    accounts' new balances (the session's flush). Answers the entry ids in order."""
    if not staged:
        return []
    now = utcnow()
    inserted = await session.scalars(
        # Core statements on the tables: no ORM bookkeeping for rows nobody reads back.
        _ENTRIES.insert().returning(_ENTRIES.c.id, sort_by_parameter_order=True),
        [
            {
                "account_id": item.account_id,
                "kind": item.kind,
                "status": EntryStatus.DRAFT,
                "order_id": item.order_id,
                "fill_id": item.fill_id,
                "memo": item.memo,
                "market_ts": item.market_ts,
                "created_at": now,
            }
            for item in staged
        ],
    )
    ids = list(inserted)
    legs = [
        {
            "entry_id": entry_id,
            "account_id": item.account_id,
            "book": leg.book,
            "currency": item.currency,
            "amount": leg.amount,
        }
        for entry_id, item in zip(ids, staged, strict=True)
        for leg in item.legs
    ]
    if legs:
        await session.execute(_LEGS.insert(), legs)
    await session.execute(
        _ENTRIES.update().where(_ENTRIES.c.id.in_(ids)).values(status=EntryStatus.POSTED)
    )
    await session.flush()  # the balances `stage` moved
    return ids


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
