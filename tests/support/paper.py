"""Paper-desk test helpers: traders, accounts created through the API, money moves, and the
ledger's invariants checked after a scenario (`assert_ledger_clean`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.portfolio.verify import LedgerReport, verify_ledger
from tests.support.accounts import bearer, create_user, login

ACCOUNTS = "/api/v1/accounts"


async def trader(client: httpx.AsyncClient, db: Database, role: Role = Role.USER) -> dict[str, str]:
    """Auth headers of a new signed-in user (users hold `execute:trades`)."""
    return bearer(await login(client, await create_user(db, role)))


async def create_account(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    name: str = "paper",
    starting_cash: str = "100000.00",
    currency: str = "USD",
    **extra: Any,
) -> dict[str, Any]:
    """POST /accounts (asserting 201); the account document."""
    body = {"name": name, "currency": currency, "starting_cash": starting_cash, **extra}
    response = await client.post(ACCOUNTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    account: dict[str, Any] = response.json()
    return account


async def account_url(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> tuple[str, dict[str, Any]]:
    """A new account's URL and document (for the order, position and summary routes)."""
    account = await create_account(client, headers, **fields)
    return f"{ACCOUNTS}/{account['id']}", account


async def move_money(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    account_id: str,
    kind: str,
    amount: str,
    memo: str | None = None,
) -> httpx.Response:
    """POST /accounts/{id}/deposits or /withdrawals (`kind`); the raw response."""
    body: dict[str, Any] = {"amount": amount}
    if memo is not None:
        body["memo"] = memo
    return await client.post(f"{ACCOUNTS}/{account_id}/{kind}", json=body, headers=headers)


def dec(value: object) -> Decimal:
    """A JSON money string as a Decimal (refuses floats, which the API never answers)."""
    assert isinstance(value, str), value
    return Decimal(value)


async def ledger_report(db: Database) -> LedgerReport:
    async with db.session() as session:
        return await verify_ledger(session)


async def assert_ledger_clean(db: Database) -> LedgerReport:
    """Every ledger invariant holds (quantdesk.portfolio.verify); the report."""
    report = await ledger_report(db)
    assert report.ok, report.violations
    return report
