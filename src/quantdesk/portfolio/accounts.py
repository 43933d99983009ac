"""Paper accounts: ownership checks, creation, deposits, withdrawals, closing, activity
(docs/paper-trading.md, "Accounts").

`get_owned` / `lock_owned` answer `AccountNotFound` alike for someone else's id and a missing
one, so an id never reveals that an account exists. `lock_owned` takes the account's write
lock first (`ledger.lock_account`) and then loads it: use it for every placement and money
move, so balances are read only after concurrent writers of the account have finished.

Money moves are ledger entries (`ledger.post`): starting cash and deposits are
`cash +X / external -X`, withdrawals the reverse. A closed account keeps its ledger and its
balances, read-only: no deposits, withdrawals or orders.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import Conflict, NotFound, Unprocessable, field_error
from quantdesk.kit.pagination import decode_cursor, decode_int_cursor, split_page
from quantdesk.models.base import utcnow
from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    AccountStatus,
    EntryKind,
    EntryStatus,
    LedgerEntry,
    LedgerLeg,
    MarketClock,
    PaperAccount,
    PaperOrder,
    PaperPosition,
    fixed8,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.account_schemas import (
    AccountCreate,
    AccountRead,
    EntryRead,
    LegRead,
    MoneyMove,
)
from quantdesk.portfolio.fill_models import overrides
from quantdesk.portfolio.money import money_str

ZERO = Decimal(0)


class AccountNotFound(NotFound):
    code = "account-not-found"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"no paper account {account_id!r}")


class AccountClosed(Conflict):
    code = "account-closed"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"paper account {account_id!r} is closed")


class AccountNameTaken(Conflict):
    code = "account-name-taken"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"you already have a paper account named {name!r}",
            errors=[field_error(["body", "name"], "already used by another of your accounts")],
        )


class AccountNotFlat(Conflict):
    code = "account-not-flat"


def ensure_open(account: PaperAccount) -> None:
    """Raise AccountClosed unless `account` is open (money moves and placement)."""
    if account.status is not AccountStatus.OPEN:
        raise AccountClosed(account.id)


async def position_values(
    session: AsyncSession, account_ids: Sequence[str] | None
) -> dict[str, Decimal]:
    """Σ qty x last price of each account's non-zero positions (a symbol the desk has no price
    for yet is valued at its cost basis); `None`: every account (ledger verify)."""
    values: dict[str, Decimal] = defaultdict(Decimal)
    if account_ids is not None and not account_ids:
        return values
    query = (
        select(
            PaperPosition.account_id,
            PaperPosition.qty,
            PaperPosition.cost_basis,
            MarketClock.last_price,
        )
        .outerjoin(MarketClock, MarketClock.symbol == PaperPosition.symbol)
        .where(PaperPosition.qty != ZERO)
    )
    if account_ids is not None:
        query = query.where(PaperPosition.account_id.in_(account_ids))
    for account_id, qty, cost_basis, last_price in await session.execute(query):
        values[account_id] += cost_basis if last_price is None else fixed8(qty * last_price)
    return values


def present(account: PaperAccount, position_value: Decimal) -> AccountRead:
    total = account.cash + account.held
    return AccountRead(
        id=account.id,
        name=account.name,
        currency=account.currency,
        cash=total,
        held=account.held,
        free=account.cash,
        equity=total + position_value,
        allow_short=account.allow_short,
        fill_model={
            name: None if value is None else money_str(value)
            for name, value in overrides(account.fill_model).items()
        },
        status=account.status,
        created_at=account.created_at,
        closed_at=account.closed_at,
    )


class AccountService:
    # --- ownership ------------------------------------------------------------------------
    async def get_owned(self, session: AsyncSession, user_id: int, account_id: str) -> PaperAccount:
        """`user_id`'s account `account_id` (open or closed), else AccountNotFound."""
        return await self._load(session, user_id, account_id, fresh=False)

    async def lock_owned(
        self, session: AsyncSession, user_id: int, account_id: str
    ) -> PaperAccount:
        """`get_owned` after the account's write lock (the transaction's first write), with
        the balances re-read from the database."""
        account = (await self.lock_many(session, [(user_id, account_id)])).get(account_id)
        if account is None:
            raise AccountNotFound(account_id)
        return account

    async def lock_many(
        self, session: AsyncSession, owned: Collection[tuple[int, str]]
    ) -> dict[str, PaperAccount]:
        """Lock every `(user_id, account_id)` account that exists and is that user's (others
        are left out of the answer, untouched), with balances re-read: one statement."""
        # The lock (the transaction's first write, see ledger.lock_account) answers the rows
        # with their current balances; PostgreSQL takes the row locks in id order, so two
        # batches locking overlapping accounts cannot deadlock.
        ordered = (
            select(PaperAccount.id)
            .where(tuple_(PaperAccount.user_id, PaperAccount.id).in_(list(owned)))
            .order_by(PaperAccount.id)
            .with_for_update()
        )
        accounts = await session.scalars(
            update(PaperAccount)
            .where(PaperAccount.id.in_(ordered))
            .values(version=PaperAccount.version + 1)
            .returning(PaperAccount)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        return {account.id: account for account in accounts}

    async def _load(
        self, session: AsyncSession, user_id: int, account_id: str, *, fresh: bool
    ) -> PaperAccount:
        query = select(PaperAccount).where(
            PaperAccount.id == account_id, PaperAccount.user_id == user_id
        )
        if fresh:  # an object already in the session must not keep stale balances
            query = query.execution_options(populate_existing=True)
        account = await session.scalar(query)
        if account is None:
            raise AccountNotFound(account_id)
        return account

    # --- reading --------------------------------------------------------------------------
    async def read(self, session: AsyncSession, account: PaperAccount) -> AccountRead:
        values = await position_values(session, [account.id])
        return present(account, values[account.id])

    async def get(self, session: AsyncSession, user_id: int, account_id: str) -> AccountRead:
        return await self.read(session, await self.get_owned(session, user_id, account_id))

    async def list_owned(
        self, session: AsyncSession, user_id: int, *, cursor: str | None, limit: int
    ) -> tuple[list[AccountRead], str | None]:
        """The caller's accounts, oldest first (cursor over the id, which sorts by creation)."""
        query = select(PaperAccount).where(PaperAccount.user_id == user_id)
        if cursor is not None:
            query = query.where(PaperAccount.id > str(decode_cursor(cursor)))
        rows = (await session.scalars(query.order_by(PaperAccount.id).limit(limit + 1))).all()
        page, next_cursor = split_page(rows, limit, lambda account: account.id)
        values = await position_values(session, [account.id for account in page])
        return [present(account, values[account.id]) for account in page], next_cursor

    # --- writing --------------------------------------------------------------------------
    async def create(
        self, session: AsyncSession, user_id: int, body: AccountCreate
    ) -> PaperAccount:
        taken = await session.scalar(
            select(PaperAccount.id).where(
                PaperAccount.user_id == user_id, PaperAccount.name == body.name
            )
        )
        if taken is not None:
            raise AccountNameTaken(body.name)
        account = PaperAccount(
            id=new_account_id(),
            user_id=user_id,
            name=body.name,
            currency=body.currency,
            status=AccountStatus.OPEN,
            allow_short=body.allow_short,
            fill_model=body.fill_model.stored() if body.fill_model is not None else None,
            cash=Decimal(0),
            held=Decimal(0),
            version=0,
            created_at=utcnow(),
        )
        try:
            async with session.begin_nested():
                session.add(account)
                await session.flush()
        except IntegrityError as exc:  # a concurrent create took the name
            raise AccountNameTaken(body.name) from exc
        if body.starting_cash > 0:
            await self._move(
                session, account, EntryKind.DEPOSIT, body.starting_cash, "starting cash"
            )
        return account

    async def deposit(
        self, session: AsyncSession, user_id: int, account_id: str, body: MoneyMove
    ) -> PaperAccount:
        account = await self.lock_owned(session, user_id, account_id)
        ensure_open(account)
        await self._move(session, account, EntryKind.DEPOSIT, body.amount, body.memo)
        return account

    async def withdraw(
        self, session: AsyncSession, user_id: int, account_id: str, body: MoneyMove
    ) -> PaperAccount:
        """Withdraw free cash; more than the free cash is a 422 naming `amount`."""
        account = await self.lock_owned(session, user_id, account_id)
        ensure_open(account)
        if body.amount > account.cash:
            message = (
                f"amount {money_str(body.amount)} exceeds the free cash "
                f"{money_str(account.cash)} {account.currency}"
            )
            raise Unprocessable(message, errors=[field_error(["body", "amount"], message)])
        await self._move(session, account, EntryKind.WITHDRAWAL, body.amount, body.memo)
        return account

    async def close(self, session: AsyncSession, user_id: int, account_id: str) -> PaperAccount:
        """Close a flat account (no open order, no non-zero position); else 409 saying why."""
        account = await self.lock_owned(session, user_id, account_id)
        ensure_open(account)
        open_orders = await session.scalar(
            select(func.count())
            .select_from(PaperOrder)
            .where(PaperOrder.account_id == account.id, PaperOrder.status.in_(OPEN_ORDER_STATUSES))
        )
        symbols = (
            await session.scalars(
                select(PaperPosition.symbol)
                .where(PaperPosition.account_id == account.id, PaperPosition.qty != ZERO)
                .order_by(PaperPosition.symbol)
            )
        ).all()
        reasons = []
        if open_orders:
            reasons.append(f"{open_orders} open order(s): cancel them first")
        if symbols:
            reasons.append(f"open position(s) in {', '.join(symbols)}: close them first")
        if reasons:
            raise AccountNotFlat("the account is not flat: " + "; ".join(reasons))
        account.status = AccountStatus.CLOSED
        account.closed_at = utcnow()
        await session.flush()
        return account

    async def _move(
        self,
        session: AsyncSession,
        account: PaperAccount,
        kind: EntryKind,
        amount: Decimal,
        memo: str | None,
    ) -> None:
        sign = 1 if kind is EntryKind.DEPOSIT else -1
        legs = [
            ledger.Leg(ledger.CASH, sign * amount),
            ledger.Leg(ledger.EXTERNAL, -sign * amount),
        ]
        await ledger.post(session, account, kind, legs, memo=memo)

    # --- activity -------------------------------------------------------------------------
    async def activity(
        self,
        session: AsyncSession,
        user_id: int,
        account_id: str,
        *,
        kind: EntryKind | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[EntryRead], str | None]:
        """Posted ledger entries of the account with their legs, newest first."""
        account = await self.get_owned(session, user_id, account_id)
        query = select(LedgerEntry).where(
            LedgerEntry.account_id == account.id, LedgerEntry.status == EntryStatus.POSTED
        )
        if kind is not None:
            query = query.where(LedgerEntry.kind == kind)
        if cursor is not None:
            query = query.where(LedgerEntry.id < decode_int_cursor(cursor))
        rows = (await session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit + 1))).all()
        page, next_cursor = split_page(rows, limit, lambda entry: entry.id)
        legs = await _legs_of(session, [entry.id for entry in page])
        return [_entry_read(entry, legs[entry.id]) for entry in page], next_cursor


async def _legs_of(session: AsyncSession, entry_ids: Iterable[int]) -> dict[int, list[LegRead]]:
    found: dict[int, list[LegRead]] = defaultdict(list)
    ids = list(entry_ids)
    if not ids:
        return found
    rows = await session.execute(
        select(LedgerLeg.entry_id, LedgerLeg.book, LedgerLeg.currency, LedgerLeg.amount)
        .where(LedgerLeg.entry_id.in_(ids))
        .order_by(LedgerLeg.id)
    )
    for entry_id, book, currency, amount in rows:
        found[entry_id].append(LegRead(book=book, currency=currency, amount=amount))
    return found


def _entry_read(entry: LedgerEntry, legs: list[LegRead]) -> EntryRead:
    return EntryRead(
        id=entry.id,
        kind=entry.kind,
        status=entry.status,
        order_id=entry.order_id,
        fill_id=entry.fill_id,
        memo=entry.memo,
        market_ts=entry.market_ts,
        created_at=entry.created_at,
        legs=legs,
    )


def new_account_id() -> str:
    """32 hex digits: the creation time in milliseconds (12) then 80 random bits, so ids sort
    by creation and a list page is oldest first."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


account_service = AccountService()
