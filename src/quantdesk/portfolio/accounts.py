"""Paper accounts: ownership checks, creation, deposits, withdrawals, closing
(docs/paper-trading.md, "Accounts").

`get_owned` / `lock_owned` answer `AccountNotFound` alike for someone else's id and a missing
one, so an id never reveals that an account exists. `lock_owned` takes the account's write
lock first (`ledger.lock_account`) and then loads it: use it for every placement and money
move, so balances are read only after concurrent writers of the account have finished.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import NotFound
from quantdesk.models.portfolio import PaperAccount
from quantdesk.portfolio import ledger


class AccountNotFound(NotFound):
    code = "account-not-found"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"no paper account {account_id!r}")


class AccountService:
    async def get_owned(self, session: AsyncSession, user_id: int, account_id: str) -> PaperAccount:
        """`user_id`'s account `account_id` (open or closed), else AccountNotFound."""
        return await self._load(session, user_id, account_id, fresh=False)

    async def lock_owned(
        self, session: AsyncSession, user_id: int, account_id: str
    ) -> PaperAccount:
        """`get_owned` after the account's write lock (the transaction's first write), with
        the balances re-read from the database."""
        await ledger.lock_account(session, account_id)
        return await self._load(session, user_id, account_id, fresh=True)

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


account_service = AccountService()
