"""`quantdesk demo load` leaves the demo user a traded paper account, so a newcomer sees a
portfolio (positions, fills, a resting order, equity history, a watchlist, an alert) and the
ledger verifies; loading again changes nothing."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.access.scopes import Role
from quantdesk.auth.repository import UserRepository
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.portfolio.demo import DEMO_EMAIL, DemoPortfolio, load_demo_portfolio
from tests.support.accounts import Account, bearer, login, new_password
from tests.support.paper import assert_ledger_clean, dec, trader


async def test_demo_portfolio_is_traded_and_verifies(
    client: httpx.AsyncClient, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as session:
        await load_demo(session)
    password = new_password()
    monkeypatch.setenv("QUANTDESK_DEMO_PASSWORD", password)

    first = await load_demo_portfolio(db, settings)
    assert isinstance(first, DemoPortfolio)
    assert first.created and first.password == password
    assert first.fills >= 3

    headers = bearer(await login(client, Account(0, DEMO_EMAIL, password, Role.USER)))
    accounts = (await client.get("/api/v1/accounts", headers=headers)).json()["data"]
    assert [account["id"] for account in accounts] == [first.account_id]
    url = f"/api/v1/accounts/{first.account_id}"
    positions = (await client.get(f"{url}/positions", headers=headers)).json()["data"]
    assert [position["symbol"] for position in positions] == ["GOOG"]
    assert dec(positions[0]["qty"]) > 0
    open_orders = (await client.get(f"{url}/orders?status=open", headers=headers)).json()
    assert len(open_orders["data"]) == 1 and open_orders["data"][0]["type"] == "limit"
    filled = (await client.get(f"{url}/orders?status=filled", headers=headers)).json()["data"]
    assert len(filled) >= 3
    fills = (await client.get(f"{url}/fills", headers=headers)).json()["data"]
    assert len(fills) == first.fills
    times = [fill["market_time"] for fill in fills]
    assert times == sorted(times, reverse=True)
    paged, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = (await client.get(f"{url}/fills{query}", headers=headers)).json()
        paged += page["data"]
        if (cursor := page["meta"]["next_cursor"]) is None:
            break
    assert paged == fills
    one_order = fills[0]["order_id"]
    of_order = (await client.get(f"{url}/fills?order_id={one_order}", headers=headers)).json()
    assert {fill["order_id"] for fill in of_order["data"]} == {one_order}
    stranger = await trader(client, db)
    hidden = await client.get(f"{url}/fills", headers=stranger)
    missing = await client.get("/api/v1/accounts/0123456789abcdef/fills", headers=stranger)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(first.account_id, "X") == missing.json()[
        "detail"
    ].replace("0123456789abcdef", "X")
    equity = (await client.get(f"{url}/equity", headers=headers)).json()
    assert len(equity["timestamp"]) >= 100
    summary = (await client.get(f"{url}/summary", headers=headers)).json()
    assert dec(summary["equity"]) == dec(accounts[0]["equity"])
    watchlists = (await client.get("/api/v1/watchlists", headers=headers)).json()["data"]
    assert len(watchlists) == 1
    alerts = (await client.get("/api/v1/alerts", headers=headers)).json()["data"]
    assert [alert["symbol"] for alert in alerts] == ["GOOG"]
    await assert_ledger_clean(db)

    again = await load_demo_portfolio(db, settings)
    assert again == DemoPortfolio(DEMO_EMAIL, None, first.account_id, created=False)
    refilled = (await client.get(f"{url}/orders?status=filled", headers=headers)).json()["data"]
    assert len(refilled) == len(filled)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_without_demo_bars_it_says_what_is_missing(db: Database, settings: Settings) -> None:
    assert (
        await load_demo_portfolio(db, settings)
        == "no demo portfolio: GOOG 1d bars are not loaded (`quantdesk demo load`)"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_refused_demo_password_says_so_instead_of_crashing(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as session:
        await load_demo(session)
    monkeypatch.setenv("QUANTDESK_DEMO_PASSWORD", "Demo-Passw0rd-2026!")
    outcome = await load_demo_portfolio(db, settings)
    assert isinstance(outcome, str)
    assert "QUANTDESK_DEMO_PASSWORD is refused" in outcome and "email name" in outcome
    async with db.session() as session:
        assert await UserRepository(session).by_email(DEMO_EMAIL) is None
