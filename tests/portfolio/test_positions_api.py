"""Positions, summary and equity history through the API, with the desk fed market events
directly (`Desk.process`), on both databases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.db import Database
from quantdesk.kit.app_state import app_state
from quantdesk.portfolio.desk import Desk
from tests.support.factories import create_instrument
from tests.support.paper import account_url, assert_ledger_clean, dec, trader
from tests.support.paper_desk import DAY, DAY0, FRICTIONLESS, bar

D = Decimal


@pytest.fixture
def desk(app: FastAPI) -> Desk:
    running = app_state(app).desk
    assert running is not None  # QUANTDESK_PAPER_DESK_ENABLED is on by default
    return running


async def _buy_and_hold(
    client: httpx.AsyncClient, db: Database, desk: Desk
) -> tuple[dict[str, str], str]:
    """10 ACME bought at 100 on day 1 (close 110), day 2 closes at 120."""
    await create_instrument(db, "ACME")
    headers = await trader(client, db)
    url, _ = await account_url(client, headers, fill_model=FRICTIONLESS)
    await desk.process(bar("ACME", 0, 100, 100, 100, 100))
    body = {"symbol": "ACME", "side": "buy", "type": "market", "qty": "10"}
    placed = await client.post(f"{url}/orders", json=body, headers=headers)
    assert placed.status_code == 201, placed.text
    await desk.process(bar("ACME", 1, 100, 112, 99, 110))
    await desk.process(bar("ACME", 2, 111, 121, 110, 120))
    return headers, url


async def test_positions_are_marked_to_the_last_price(
    client: httpx.AsyncClient, db: Database, desk: Desk
) -> None:
    headers, url = await _buy_and_hold(client, db, desk)
    response = await client.get(f"{url}/positions", headers=headers)
    assert response.status_code == 200, response.text
    [position] = response.json()["data"]
    assert position == {
        "symbol": "ACME",
        "side": "long",
        "qty": "10.00",
        "avg_entry_price": "100.00",
        "cost_basis": "1000.00",
        "current_price": "120.00",
        "lastday_price": "110.00",
        "market_value": "1200.00",
        "unrealized_pnl": "200.00",
        "unrealized_pnl_pct": "20.00",
        "realized_pnl": "0.00",
        "day_change": "100.00",
    }
    one = await client.get(f"{url}/positions/acme", headers=headers)
    assert one.status_code == 200 and one.json() == position
    missing = await client.get(f"{url}/positions/ZZZ", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("position-not-found")
    await assert_ledger_clean(db)


async def test_someone_elses_account_is_a_404_like_a_missing_one(
    client: httpx.AsyncClient, db: Database, desk: Desk
) -> None:
    _, url = await _buy_and_hold(client, db, desk)
    stranger = await trader(client, db)
    missing_url = "/api/v1/accounts/" + "0" * 32
    for path in ("/positions", "/positions/ACME", "/summary", "/equity"):
        theirs = await client.get(url + path, headers=stranger)
        nobody = await client.get(missing_url + path, headers=stranger)
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.json()["type"] == nobody.json()["type"]
    closing = await client.delete(f"{url}/positions/ACME", headers=stranger)
    assert closing.status_code == 404
    assert (await client.get(f"{url}/summary")).status_code == 401


async def test_summary_and_equity_history(
    client: httpx.AsyncClient, db: Database, desk: Desk
) -> None:
    headers, url = await _buy_and_hold(client, db, desk)
    summary = (await client.get(f"{url}/summary", headers=headers)).json()
    performance = summary.pop("performance")
    assert {k: v for k, v in summary.items() if k not in ("account_id", "currency")} == {
        "cash": "99000.00",
        "held": "0.00",
        "free": "99000.00",
        "equity": "100200.00",
        "exposure": "1200.00",
        "day_pnl": "100.00",
        "total_pnl": "200.00",
        "net_deposits": "100000.00",
        "open_orders": 0,
        "positions": 1,
    }
    assert performance["points"] == 2  # day 1 and day 2
    assert performance["total_return_pct"] == pytest.approx(0.2)
    assert performance["max_drawdown_pct"] == 0
    history = (await client.get(f"{url}/equity?timeframe=1d", headers=headers)).json()
    day1, day2 = DAY0 + DAY, DAY0 + 2 * DAY
    assert history == {
        "timeframe": "1d",
        "base_value": "100000.00",
        "timestamp": [day1, day1, day2],
        "kind": ["fill", "day", "day"],
        "equity": ["100100.00", "100100.00", "100200.00"],
        "cash": ["99000.00", "99000.00", "99000.00"],
        "profit_loss": ["100.00", "100.00", "200.00"],
    }
    bad = await client.get(f"{url}/equity?timeframe=5m", headers=headers)
    assert bad.status_code == 422 and "timeframe" in bad.text


async def test_closing_a_position_places_a_market_order_that_fills_next_bar(
    client: httpx.AsyncClient, db: Database, desk: Desk
) -> None:
    headers, url = await _buy_and_hold(client, db, desk)
    response = await client.delete(f"{url}/positions/ACME", headers=headers)
    assert response.status_code == 202, response.text
    order: dict[str, Any] = response.json()
    assert (order["side"], order["type"], order["qty"], order["status"]) == (
        "sell",
        "market",
        "10.00",
        "new",
    )
    assert response.headers["Location"].endswith(f"/orders/{order['id']}")
    await desk.process(bar("ACME", 3, 130, 131, 129, 130))
    filled = (await client.get(f"{url}/orders/{order['id']}", headers=headers)).json()
    assert (filled["status"], dec(filled["filled_avg_price"])) == ("filled", D(130))
    assert (await client.get(f"{url}/positions", headers=headers)).json()["data"] == []
    summary = (await client.get(f"{url}/summary", headers=headers)).json()
    assert (summary["total_pnl"], summary["positions"], summary["exposure"]) == (
        "300.00",
        0,
        "0.00",
    )
    again = await client.delete(f"{url}/positions/ACME", headers=headers)
    assert again.status_code == 404
    await assert_ledger_clean(db)
