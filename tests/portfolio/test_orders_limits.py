"""Who may place: order placement's own rate limit (OWASP API6), counted per paper account;
the `execute:trades` scope every order route needs; closed accounts take no orders."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.config import Settings
from quantdesk.db import Database
from tests.support.accounts import create_key
from tests.support.paper import account_url, trader
from tests.support.paper_orders import listed, order, place
from tests.support.problems import assert_problem
from tests.support.settings import make_settings

LIMIT = 3


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, rate_limit_policies={"orders-create": f"{LIMIT}/minute"})


async def test_one_accounts_order_limit_does_not_throttle_another(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    busy_url, _ = await account_url(client, headers, name="busy")
    quiet_url, _ = await account_url(client, headers, name="quiet")
    await listed(db)
    for _ in range(LIMIT):
        assert (await place(client, headers, busy_url, order(qty="1"))).status_code == 201
    refused = assert_problem(await place(client, headers, busy_url, order(qty="1")), 429)
    assert "orders-create" in str(refused["detail"])
    replace = await client.patch(
        f"{busy_url}/orders/{'0' * 32}", json={"qty": "1"}, headers=headers
    )
    assert_problem(replace, 429)  # a replace places an order: the same allowance
    assert (await place(client, headers, quiet_url, order(qty="1"))).status_code == 201
    # Another user's requests against the busy account spend nothing of its allowance
    # (they are refused 404), and their own account has its own.
    other = await trader(client, db)
    other_url, _ = await account_url(client, other)
    assert_problem(await place(client, other, busy_url, order(qty="1")), 404)
    assert (await place(client, other, other_url, order(qty="1"))).status_code == 201


async def test_order_routes_need_execute_trades(client: httpx.AsyncClient, db: Database) -> None:
    headers = await trader(client, db)
    url, _ = await account_url(client, headers)
    await listed(db)
    assert_problem(await client.post(f"{url}/orders", json=order()), 401)
    tokens = {"access_token": headers["Authorization"].removeprefix("Bearer ")}
    reader = await create_key(client, tokens, scopes=["read:tickers"])
    key = {"X-API-Key": str(reader["key"])}
    for method, path, body in (
        ("POST", "/orders", order()),
        ("GET", "/orders", None),
        ("GET", f"/orders/{'0' * 32}", None),
        ("DELETE", f"/orders/{'0' * 32}", None),
        ("PATCH", f"/orders/{'0' * 32}", {"qty": "1"}),
    ):
        forbidden = await client.request(method, url + path, json=body, headers=key)
        assert_problem(forbidden, 403)


async def test_a_closed_account_takes_no_orders(client: httpx.AsyncClient, db: Database) -> None:
    headers = await trader(client, db)
    url, _ = await account_url(client, headers)
    await listed(db)
    assert (await client.delete(url, headers=headers)).status_code == 200
    refused = assert_problem(await place(client, headers, url, order()), 409)
    assert refused["type"] == "https://quantdesk.dev/problems/account-closed"
    assert (await client.get(f"{url}/orders", headers=headers)).json()["data"] == []
