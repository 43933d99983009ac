"""/accounts: the caller's paper accounts, their money moves and ledger activity
(docs/paper-trading.md, "Accounts"). Every route needs `execute:trades`, reading too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.audit.service import audit_service
from quantdesk.auth.dependencies import SystemAdmin, owner_id, policy, require
from quantdesk.dependencies import SerializedWrites, SessionDep
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.models.portfolio import EntryKind, PaperAccount
from quantdesk.portfolio.account_schemas import (
    AccountCreate,
    AccountRead,
    EntryRead,
    MoneyMove,
)
from quantdesk.portfolio.accounts import account_service
from quantdesk.portfolio.money import money_str
from quantdesk.portfolio.verify import LedgerReport, verify_ledger

router = APIRouter(tags=["paper accounts"])

Trader = Annotated[Principal, Depends(require(Scope.EXECUTE_TRADES))]
AccountId = Annotated[
    str,
    Path(min_length=1, max_length=64, description="Account id"),
]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=100)]
# Deposits and withdrawals pay the `money-write` policy (ratelimit/policies.py).
MONEY_LIMIT = [Depends(policy("money-write")), SerializedWrites]


async def _audit(
    session: AsyncSession,
    request: Request,
    principal: Principal,
    action: str,
    account: PaperAccount,
    details: dict[str, Any],
) -> None:
    await audit_service.record(
        session,
        action=action,
        actor=principal,
        user_agent=request.headers.get("user-agent"),
        resource_type="paper_account",
        resource_id=account.id,
        details=details,
    )


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    description=(
        "Open a paper account. `starting_cash` is booked as a deposit. `fill_model` overrides "
        "the server's per-asset-class slippage, fees and volume cap for this account."
    ),
)
async def create_account(
    body: AccountCreate,
    principal: Trader,
    session: SessionDep,
    request: Request,
    response: Response,
) -> AccountRead:
    account = await account_service.create(session, owner_id(principal), body)
    await _audit(
        session,
        request,
        principal,
        "paper_account.create",
        account,
        {
            "name": account.name,
            "currency": account.currency,
            "starting_cash": money_str(body.starting_cash),
            "allow_short": account.allow_short,
        },
    )
    response.headers["Location"] = f"/api/v1/accounts/{account.id}"
    return await account_service.read(session, account)


@router.get("/accounts", description="The caller's paper accounts, oldest first (cursor pages).")
async def list_accounts(
    principal: Trader, session: SessionDep, cursor: Cursor = None, limit: Limit = 20
) -> Page[AccountRead]:
    accounts, next_cursor = await account_service.list_owned(
        session, owner_id(principal), cursor=cursor, limit=limit
    )
    return Page[AccountRead](
        data=accounts, meta=ListMeta(count=len(accounts), next_cursor=next_cursor)
    )


@router.get("/accounts/{account_id}")
async def get_account(principal: Trader, session: SessionDep, account_id: AccountId) -> AccountRead:
    return await account_service.get(session, owner_id(principal), account_id)


@router.post(
    "/accounts/{account_id}/deposits",
    dependencies=MONEY_LIMIT,
    description="Add cash to the account (a `deposit` ledger entry); answers the account.",
)
async def deposit(
    body: MoneyMove,
    principal: Trader,
    session: SessionDep,
    request: Request,
    account_id: AccountId,
) -> AccountRead:
    account = await account_service.deposit(session, owner_id(principal), account_id, body)
    details = {"amount": money_str(body.amount), "currency": account.currency}
    await _audit(session, request, principal, "paper_account.deposit", account, details)
    return await account_service.read(session, account)


@router.post(
    "/accounts/{account_id}/withdrawals",
    dependencies=MONEY_LIMIT,
    description=(
        "Take free cash out of the account (a `withdrawal` ledger entry). More than the free "
        "cash (cash not held for open orders) is a 422 naming `amount`; nothing is booked."
    ),
)
async def withdraw(
    body: MoneyMove,
    principal: Trader,
    session: SessionDep,
    request: Request,
    account_id: AccountId,
) -> AccountRead:
    account = await account_service.withdraw(session, owner_id(principal), account_id, body)
    details = {"amount": money_str(body.amount), "currency": account.currency}
    await _audit(session, request, principal, "paper_account.withdraw", account, details)
    return await account_service.read(session, account)


@router.delete(
    "/accounts/{account_id}",
    description=(
        "Close the account: only when flat (no open order, no non-zero position), else 409 "
        "saying why. A closed account stays readable with its ledger; it takes no more "
        "orders or money moves."
    ),
)
async def close_account(
    principal: Trader, session: SessionDep, request: Request, account_id: AccountId
) -> AccountRead:
    account = await account_service.close(session, owner_id(principal), account_id)
    details = {"cash": money_str(account.cash + account.held)}
    await _audit(session, request, principal, "paper_account.close", account, details)
    return await account_service.read(session, account)


@router.get(
    "/accounts/{account_id}/activity",
    description=(
        "The account's ledger entries with their legs, newest first (cursor pages); "
        "`kind` filters deposit, withdrawal, hold, release, fill or fee."
    ),
)
async def account_activity(
    principal: Trader,
    session: SessionDep,
    account_id: AccountId,
    kind: EntryKind | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[EntryRead]:
    entries, next_cursor = await account_service.activity(
        session, owner_id(principal), account_id, kind=kind, cursor=cursor, limit=limit
    )
    return Page[EntryRead](data=entries, meta=ListMeta(count=len(entries), next_cursor=next_cursor))


@router.get(
    "/admin/ledger/verify",
    description=(
        "Admin: check every invariant of the paper desk's ledger (balanced entries, balances "
        "equal to their books, holds, positions against fills and lots); `ok` is false and "
        "`violations` lists them when one fails. Each account's equity is reported."
    ),
)
async def verify_ledger_endpoint(_: SystemAdmin, session: SessionDep) -> LedgerReport:
    return await verify_ledger(session)
