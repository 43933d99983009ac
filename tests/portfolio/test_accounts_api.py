"""/accounts on SQLite and PostgreSQL: create, list own, 404 for others', deposits,
withdrawals, close when flat, activity, audit; the ledger verifies clean after each."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from quantdesk.db import Database
from quantdesk.models import AuditEvent
from quantdesk.models.portfolio import (
    LedgerEntry,
    OrderSide,
    OrderStatus,
    OrderType,
    PaperOrder,
    PaperPosition,
    TimeInForce,
)
from tests.support.paper import (
    ACCOUNTS,
    assert_ledger_clean,
    create_account,
    dec,
    move_money,
    trader,
)
from tests.support.problems import assert_problem


async def test_create_books_starting_cash_as_a_deposit(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    body = {
        "name": "main",
        "currency": "USD",
        "starting_cash": "100000.00",
        "fill_model": {"fee_min": "1.5", "max_participation": None},
    }
    response = await client.post(ACCOUNTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    account = response.json()
    assert response.headers["location"] == f"{ACCOUNTS}/{account['id']}"
    assert {k: account[k] for k in ("name", "currency", "cash", "held", "free", "equity")} == {
        "name": "main",
        "currency": "USD",
        "cash": "100000.00",
        "held": "0.00",
        "free": "100000.00",
        "equity": "100000.00",
    }
    assert account["fill_model"] == {"fee_min": "1.50", "max_participation": None}
    assert (account["allow_short"], account["status"]) == (False, "open")
    activity = (await client.get(f"{ACCOUNTS}/{account['id']}/activity", headers=headers)).json()
    [entry] = activity["data"]
    assert (entry["kind"], entry["memo"]) == ("deposit", "starting cash")
    assert sorted((leg["book"], leg["amount"]) for leg in entry["legs"]) == [
        ("cash", "100000.00"),
        ("external", "-100000.00"),
    ]
    await assert_ledger_clean(db)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "starting_cash": 100.5}, "starting_cash"),
        ({"name": "x", "starting_cash": "-1"}, "starting_cash"),
        ({"name": "x", "starting_cash": "1.123456789"}, "starting_cash"),
        ({"name": "x", "currency": "usd"}, "currency"),
        ({"name": "x", "currency": "XYZ"}, "currency"),
        ({"name": " "}, "name"),
        ({"name": "x", "fill_model": {"fee_bps": "1001"}}, "fill_model.fee_bps"),
        ({"name": "x", "fill_model": {"fee_bps": None}}, "fill_model.fee_bps"),
        ({"name": "x", "fill_model": {"max_participation": "1.5"}}, "fill_model.max_participation"),
        ({"name": "x", "fill_model": {"slippage": "1"}}, "fill_model.slippage"),
        ({"name": "x", "leverage": 2}, "leverage"),
    ],
)
async def test_bad_create_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, body: dict[str, object], field: str
) -> None:
    headers = await trader(client, db)
    problem = assert_problem(await client.post(ACCOUNTS, json=body, headers=headers), 422)
    assert field in [error["field"].removeprefix("body.") for error in problem["errors"]]  # type: ignore[attr-defined]


async def test_a_name_is_used_once_per_user(client: httpx.AsyncClient, db: Database) -> None:
    headers = await trader(client, db)
    await create_account(client, headers, name="same")
    problem = assert_problem(
        await client.post(ACCOUNTS, json={"name": "same"}, headers=headers), 409
    )
    assert problem["type"].endswith("account-name-taken")  # type: ignore[attr-defined]
    other = await trader(client, db)
    await create_account(client, other, name="same")


async def test_list_shows_only_the_callers_accounts(
    client: httpx.AsyncClient, db: Database
) -> None:
    alice, bob = await trader(client, db), await trader(client, db)
    mine = [(await create_account(client, alice, name=f"a{i}"))["id"] for i in range(3)]
    await create_account(client, bob, name="b")
    first = (await client.get(ACCOUNTS, params={"limit": 2}, headers=alice)).json()
    second = (
        await client.get(
            ACCOUNTS, params={"limit": 2, "cursor": first["meta"]["next_cursor"]}, headers=alice
        )
    ).json()
    assert [a["id"] for a in first["data"] + second["data"]] == mine
    assert second["meta"]["next_cursor"] is None


async def test_someone_elses_account_is_a_404_like_a_missing_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    alice, bob = await trader(client, db), await trader(client, db)
    theirs = (await create_account(client, bob))["id"]
    missing = "0" * 32
    for method, suffix, body in [
        ("GET", "", None),
        ("DELETE", "", None),
        ("GET", "/activity", None),
        ("POST", "/deposits", {"amount": "10"}),
        ("POST", "/withdrawals", {"amount": "10"}),
    ]:
        answers = []
        for account_id in (theirs, missing):
            response = await client.request(
                method, f"{ACCOUNTS}/{account_id}{suffix}", json=body, headers=alice
            )
            problem = assert_problem(response, 404)
            answers.append((problem["type"], str(problem["detail"]).replace(account_id, "<id>")))
        assert answers[0] == answers[1]
    bob_view = (await client.get(f"{ACCOUNTS}/{theirs}", headers=bob)).json()
    assert bob_view["cash"] == "100000.00"  # untouched by alice's attempts


async def test_deposit_and_withdrawal_move_cash_and_are_audited(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    account = await create_account(client, headers, starting_cash="1000")
    url = account["id"]
    deposited = await move_money(client, headers, url, "deposits", "250.25", memo="top up")
    assert deposited.status_code == 200, deposited.text
    assert deposited.json()["cash"] == "1250.25"
    withdrawn = await move_money(client, headers, url, "withdrawals", "0.25")
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["cash"], withdrawn.json()["free"]) == ("1250.00", "1250.00")
    activity = (await client.get(f"{ACCOUNTS}/{url}/activity", headers=headers)).json()
    assert [e["kind"] for e in activity["data"]] == ["withdrawal", "deposit", "deposit"]
    assert activity["data"][1]["memo"] == "top up"
    only = await client.get(
        f"{ACCOUNTS}/{url}/activity", params={"kind": "withdrawal"}, headers=headers
    )
    assert [e["legs"] for e in only.json()["data"]] == [
        [
            {"book": "cash", "currency": "USD", "amount": "-0.25"},
            {"book": "external", "currency": "USD", "amount": "0.25"},
        ]
    ]
    async with db.session() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.resource_id == url)
                .order_by(AuditEvent.id)
            )
        ).all()
    assert actions == ["paper_account.create", "paper_account.deposit", "paper_account.withdraw"]
    await assert_ledger_clean(db)


async def test_withdrawal_beyond_free_cash_is_a_422_and_books_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    account_id = (await create_account(client, headers, starting_cash="100"))["id"]
    response = await move_money(client, headers, account_id, "withdrawals", "100.01")
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["body.amount"]  # type: ignore[attr-defined]
    assert "100.01" in str(problem["detail"])
    async with db.session() as session:
        kinds = (
            await session.scalars(
                select(LedgerEntry.kind).where(LedgerEntry.account_id == account_id)
            )
        ).all()
    assert kinds == ["deposit"]
    after = (await client.get(f"{ACCOUNTS}/{account_id}", headers=headers)).json()
    assert after["cash"] == "100.00"
    await assert_ledger_clean(db)


@pytest.mark.parametrize("amount", [10.5, 10, "0", "-5", "1e-9", "abc"])
async def test_bad_amounts_are_refused(
    client: httpx.AsyncClient, db: Database, amount: object
) -> None:
    headers = await trader(client, db)
    account_id = (await create_account(client, headers))["id"]
    for kind in ("deposits", "withdrawals"):
        response = await client.post(
            f"{ACCOUNTS}/{account_id}/{kind}", json={"amount": amount}, headers=headers
        )
        if amount == 10:  # a JSON integer is an exact amount
            assert response.status_code == 200, response.text
            continue
        problem = assert_problem(response, 422)
        assert [e["field"] for e in problem["errors"]] == ["body.amount"]  # type: ignore[attr-defined]


async def test_close_needs_a_flat_account(client: httpx.AsyncClient, db: Database) -> None:
    headers = await trader(client, db)
    account_id = (await create_account(client, headers))["id"]
    async with db.session() as session:
        session.add(
            PaperOrder(
                id="o" * 32,
                account_id=account_id,
                symbol="GOOG",
                side=OrderSide.BUY,
                type=OrderType.LIMIT,
                time_in_force=TimeInForce.GTC,
                qty=Decimal(1),
                limit_price=Decimal(1),
                status=OrderStatus.NEW,
            )
        )
        session.add(PaperPosition(account_id=account_id, symbol="AAPL", qty=Decimal(0)))
        session.add(PaperPosition(account_id=account_id, symbol="MSFT", qty=Decimal("-2")))
    problem = assert_problem(await client.delete(f"{ACCOUNTS}/{account_id}", headers=headers), 409)
    assert "1 open order" in str(problem["detail"]) and "MSFT" in str(problem["detail"])
    assert "AAPL" not in str(problem["detail"])
    async with db.session() as session:
        order = await session.get(PaperOrder, "o" * 32)
        assert order is not None
        order.status = OrderStatus.CANCELED
        position = await session.get(PaperPosition, (account_id, "MSFT"))
        assert position is not None
        position.qty = Decimal(0)
    closed = await client.delete(f"{ACCOUNTS}/{account_id}", headers=headers)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["cash"]) == ("closed", "100000.00")
    assert closed.json()["closed_at"] is not None
    refused = await move_money(client, headers, account_id, "deposits", "1")
    assert assert_problem(refused, 409)["type"].endswith("account-closed")  # type: ignore[attr-defined]
    async with db.session() as session:
        audited = await session.scalar(
            select(AuditEvent.action).where(
                AuditEvent.resource_id == account_id, AuditEvent.action == "paper_account.close"
            )
        )
    assert audited == "paper_account.close"


async def test_accounts_need_execute_trades(client: httpx.AsyncClient, db: Database) -> None:
    assert_problem(await client.get(ACCOUNTS), 401)
    assert_problem(await client.post(ACCOUNTS, json={"name": "x"}), 401)


async def test_activity_pages_newest_first(client: httpx.AsyncClient, db: Database) -> None:
    headers = await trader(client, db)
    account_id = (await create_account(client, headers, starting_cash="0"))["id"]
    for amount in ("1", "2", "3"):
        assert (
            await move_money(client, headers, account_id, "deposits", amount)
        ).status_code == 200
    url = f"{ACCOUNTS}/{account_id}/activity"
    first = (await client.get(url, params={"limit": 2}, headers=headers)).json()
    rest = (
        await client.get(
            url, params={"limit": 2, "cursor": first["meta"]["next_cursor"]}, headers=headers
        )
    ).json()
    amounts = [dec(e["legs"][0]["amount"]) for e in first["data"] + rest["data"]]
    assert amounts == [Decimal(3), Decimal(2), Decimal(1)]
    assert rest["meta"]["next_cursor"] is None
    assert_problem(await client.get(url, params={"kind": "nope"}, headers=headers), 422)
