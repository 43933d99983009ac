"""Orders placed through the API and filled by the desk: eligible on the symbol's next
market event, and a partially filled order canceled releases only what it still holds."""

from __future__ import annotations

from decimal import Decimal

import httpx

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.portfolio.desk import Desk
from tests.support.paper import account_url, assert_ledger_clean, trader
from tests.support.paper_desk import bar
from tests.support.paper_orders import balances, listed, order, place


async def test_partial_fill_then_cancel_releases_the_rest_of_the_hold(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(
        client,
        headers,
        starting_cash="10000.00",
        fill_model={"slippage_bps": "0", "fee_bps": "0", "fee_min": "0"},
    )
    await listed(db)
    placed = await place(client, headers, url, order(type="limit", limit_price="100"))
    assert placed.status_code == 201, placed.text
    order_url = f"{url}/orders/{placed.json()['id']}"
    desk = Desk(db, settings)
    # 10 % of a 50-share bar: 5 of the 10 fill, at min(limit, open) = 99.
    await desk.process(bar("ACME", 0, 99.0, 101.0, 98.0, 100.0, 50.0))
    partial = (await client.get(order_url, headers=headers)).json()
    assert (partial["status"], partial["filled_qty"], partial["filled_avg_price"]) == (
        "partially_filled",
        "5.00",
        "99.00",
    )
    assert partial["hold"] == "500.00"
    canceled = await client.delete(order_url, headers=headers)
    assert canceled.status_code == 200, canceled.text
    assert (canceled.json()["status"], canceled.json()["hold"]) == ("canceled", "0.00")
    assert await balances(db, account["id"]) == (Decimal("9505"), Decimal(0))
    await desk.process(bar("ACME", 1, 99.0, 101.0, 98.0, 100.0, 50.0))
    assert (await client.get(order_url, headers=headers)).json()["filled_qty"] == "5.00"
    still_open = await client.get(f"{url}/orders?status=open", headers=headers)
    assert still_open.json()["data"] == []
    await assert_ledger_clean(db)


async def test_an_order_placed_after_an_event_waits_for_the_next_one(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    headers = await trader(client, db)
    url, _ = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    desk = Desk(db, settings)
    await desk.process(bar("ACME", 0, 99.0, 101.0, 98.0, 100.0))
    placed = (await place(client, headers, url, order(qty="1", time_in_force="day"))).json()
    assert placed["status"] == "new" and placed["accepted_market_time"] is not None
    order_url = f"{url}/orders/{placed['id']}"
    assert (await client.get(order_url, headers=headers)).json()["filled_qty"] == "0.00"
    await desk.process(bar("ACME", 1, 102.0, 103.0, 101.0, 102.5))
    filled = (await client.get(order_url, headers=headers)).json()
    assert (filled["status"], filled["filled_qty"]) == ("filled", "1.00")
    assert Decimal(filled["filled_avg_price"]) == Decimal("102.051")  # open + 5 bps
    await assert_ledger_clean(db)
