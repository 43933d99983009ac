"""POST/GET/DELETE/PATCH /accounts/{id}/orders: validation, pre-trade checks and the cash a
buy holds, recorded rejects, idempotency, cancel, replace, ownership, audit and events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.audit.service import audit_service
from quantdesk.db import Database
from quantdesk.kit.app_state import app_state
from quantdesk.models.marketdata import AssetClass
from quantdesk.models.portfolio import EntryKind, PaperOrder
from tests.support.events import buffered, settle
from tests.support.paper import account_url, assert_ledger_clean, trader
from tests.support.paper_orders import DAY0, balances, entries, listed, order, place, set_clock
from tests.support.problems import assert_problem

# (body change, the field the 422 names); each against a market buy of 10 ACME.
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"type": "limit"}, "body.limit_price"),
    ({"limit_price": "10"}, "body.limit_price"),
    ({"type": "stop"}, "body.stop_price"),
    ({"type": "stop_limit", "limit_price": "10"}, "body.stop_price"),
    ({"type": "stop_limit", "stop_price": "10"}, "body.limit_price"),
    ({"type": "limit", "limit_price": "10", "stop_price": "9"}, "body.stop_price"),
    ({"stop_price": "9"}, "body.stop_price"),
    ({"type": "limit", "limit_price": "-1"}, "body.limit_price"),
    ({"qty": "0"}, "body.qty"),
    ({"qty": 1.5}, "body.qty"),
    ({"qty": "ten"}, "body.qty"),
    ({"qty": "1.123456789"}, "body.qty"),
    ({"side": "hold"}, "body.side"),
    ({"type": "trailing_stop"}, "body.type"),
    ({"time_in_force": "gtx"}, "body.time_in_force"),
    ({"symbol": "NOT A SYMBOL"}, "body.symbol"),
    ({"client_order_id": "x" * 65}, "body.client_order_id"),
    ({"leverage": 5}, "body.leverage"),
]


async def test_each_invalid_order_is_a_422_naming_its_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, _ = await account_url(client, headers)
    await listed(db)
    for change, field in INVALID:
        problem = assert_problem(await place(client, headers, url, order(**change)), 422)
        fields = [error["field"] for error in problem["errors"]]  # type: ignore[attr-defined]
        assert fields == [field], (change, problem)
    too_long = assert_problem(await place(client, headers, url, order(), key="k" * 129), 422)
    assert [e["field"] for e in too_long["errors"]] == ["header.Idempotency-Key"]  # type: ignore[attr-defined]
    listing = await client.get(f"{url}/orders", headers=headers)
    assert listing.json()["data"] == []  # nothing malformed was recorded


async def test_market_buy_holds_its_estimated_cost_and_waits_for_the_next_event(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db, price=100.0)
    topic = await app_state(app).events.subscribe(f"orders.{account['id']}")
    response = await place(client, headers, url, order(symbol=" acme "))
    assert response.status_code == 201, response.text
    placed = response.json()
    assert response.headers["location"] == f"{url}/orders/{placed['id']}"
    assert "idempotent-replayed" not in response.headers
    # 10 x last price 100 + 5 bps equity slippage; no fee by default.
    assert placed["hold"] == "1000.50"
    assert placed | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "client_order_id": None,
        "account_id": account["id"],
        "symbol": "ACME",
        "side": "buy",
        "type": "market",
        "time_in_force": "gtc",
        "qty": "10.00",
        "limit_price": None,
        "stop_price": None,
        "status": "new",
        "filled_qty": "0.00",
        "filled_avg_price": None,
        "fees": "0.00",
        "hold": "1000.50",
        "reject_reason": None,
        "reason_detail": None,
        "replaces": None,
        "replaced_by": None,
        "accepted_market_time": None,
        "created_at": None,
        "updated_at": None,
        "filled_at": None,
        "canceled_at": None,
        "expired_at": None,
        "rejected_at": None,
        "replaced_at": None,
    }
    assert await balances(db, account["id"]) == (Decimal("8999.50"), Decimal("1000.50"))
    read = await client.get(f"{url}/orders/{placed['id']}", headers=headers)
    assert read.status_code == 200 and read.json() == placed
    await settle()
    events = [event.payload for event in buffered(topic)]
    assert [(e.event, e.status, e.order_id) for e in events] == [  # type: ignore[attr-defined]
        ("accepted", "new", placed["id"])
    ]
    await assert_ledger_clean(db)


async def test_an_order_remembers_its_symbols_market_time(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, _account = await account_url(client, headers)
    await listed(db)
    await set_clock(db, "ACME", seq=7, ts=DAY0, last_price="101")
    body = order(type="limit", limit_price="99.5", qty="5", time_in_force="day")
    response = await place(client, headers, url, body)
    assert response.status_code == 201, response.text
    placed = response.json()
    assert placed["hold"] == "497.50"  # at the limit: no slippage on limit orders
    assert placed["accepted_market_time"] == datetime.fromtimestamp(DAY0, UTC).isoformat().replace(
        "+00:00", "Z"
    )
    async with db.session() as session:
        stored = await session.get(PaperOrder, placed["id"])
        assert stored is not None and (stored.accepted_seq, stored.accepted_market_ts) == (7, DAY0)
    market = await place(client, headers, url, order(qty="1"))
    assert market.json()["hold"] == "101.0505"  # the clock's last price, not the quote's


REJECTS = [
    pytest.param(order(symbol="NOPE"), "unknown_symbol", id="unknown-symbol"),
    pytest.param(order(qty="1.12345"), "qty_precision", id="equity-4-decimals"),
    pytest.param(order(time_in_force="day"), "market_closed", id="day-without-session"),
    pytest.param(order(qty="1000"), "insufficient_buying_power", id="over-free-cash"),
    pytest.param(order(side="sell"), "insufficient_position", id="sell-without-position"),
]


@pytest.mark.parametrize(("body", "reason"), REJECTS)
async def test_a_rejected_order_is_recorded_and_answered_422(
    client: httpx.AsyncClient, db: Database, body: dict[str, Any], reason: str
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    response = await place(client, headers, url, body)
    problem = assert_problem(response, 422)
    assert problem["type"] == "https://quantdesk.dev/problems/order-rejected"
    assert problem["reject_reason"] == reason
    stored = problem["order"]
    assert isinstance(stored, dict)
    assert stored["id"] == problem["order_id"]
    assert (stored["status"], stored["reject_reason"], stored["hold"]) == (
        "rejected",
        reason,
        "0.00",
    )
    assert stored["rejected_at"] is not None and stored["reason_detail"]
    read = await client.get(f"{url}/orders/{problem['order_id']}", headers=headers)
    assert read.json() == stored
    assert await balances(db, account["id"]) == (Decimal("10000"), Decimal(0))
    assert await entries(db, account["id"], EntryKind.HOLD) == 0
    await assert_ledger_clean(db)


async def test_asset_class_precision_day_orders_with_a_session_and_shorting(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, _account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    await listed(db, "BTC-USD", asset_class=AssetClass.CRYPTO, price=40000.0)
    crypto = await place(client, headers, url, order(symbol="BTC-USD", qty="0.00012345"))
    assert crypto.status_code == 201, crypto.text
    await set_clock(db, "ACME")
    day = await place(client, headers, url, order(qty="1.5", time_in_force="day"))
    assert day.status_code == 201, day.text
    short_url, _short = await account_url(
        client, headers, name="short", starting_cash="1000.00", allow_short=True
    )
    sell = await place(
        client, headers, short_url, order(side="sell", type="limit", qty="5", limit_price="100")
    )
    assert sell.status_code == 201, sell.text
    assert sell.json()["hold"] == "500.00"  # a short sale holds its estimated notional
    too_big = await place(
        client, headers, short_url, order(side="sell", type="limit", qty="6", limit_price="100")
    )
    refused = assert_problem(too_big, 422)
    assert refused["reject_reason"] == "insufficient_buying_power"
    assert refused["detail"] == "the order holds 600.00 but only 500.00 is free"
    await assert_ledger_clean(db)


async def test_idempotency_key_answers_the_first_order_and_refuses_another_body(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    first = await place(client, headers, url, order(qty="10"), key="k-1")
    again = await place(client, headers, url, order(qty="10.000", time_in_force="gtc"), key="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = assert_problem(await place(client, headers, url, order(qty="11"), key="k-1"), 422)
    assert other["type"] == "https://quantdesk.dev/problems/idempotency-key-reused"
    assert [e["field"] for e in other["errors"]] == ["header.Idempotency-Key"]  # type: ignore[attr-defined]
    # A rejected placement replays as the same 422 and the same order.
    rejected = await place(client, headers, url, order(qty="500"), key="k-2")
    replayed = await place(client, headers, url, order(qty="500"), key="k-2")
    assert (rejected.status_code, replayed.status_code) == (422, 422)
    assert rejected.json()["order_id"] == replayed.json()["order_id"]
    assert replayed.headers["idempotent-replayed"] == "true"
    assert await entries(db, account["id"], EntryKind.HOLD) == 1
    listing = (await client.get(f"{url}/orders", headers=headers)).json()
    assert len(listing["data"]) == 2


async def test_client_order_id_is_unique_per_account(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, _ = await account_url(client, headers)
    other_url, _ = await account_url(client, headers, name="other")
    await listed(db)
    first = await place(client, headers, url, order(client_order_id="mine-1"))
    assert first.status_code == 201 and first.json()["client_order_id"] == "mine-1"
    same = await place(client, headers, url, order(client_order_id="mine-1"))
    assert same.json()["id"] == first.json()["id"] and same.headers["idempotent-replayed"] == "true"
    reused = assert_problem(
        await place(client, headers, url, order(qty="2", client_order_id="mine-1")), 409
    )
    assert reused["type"] == "https://quantdesk.dev/problems/client-order-id-reused"
    elsewhere = await place(client, headers, other_url, order(client_order_id="mine-1"))
    assert elsewhere.status_code == 201


async def test_cancel_releases_the_hold_once(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    topic = await app_state(app).events.subscribe(f"orders.{account['id']}")
    placed = (await place(client, headers, url, order(type="limit", limit_price="95"))).json()
    canceled = await client.delete(f"{url}/orders/{placed['id']}", headers=headers)
    assert canceled.status_code == 200, canceled.text
    body = canceled.json()
    assert (body["status"], body["hold"]) == ("canceled", "0.00")
    assert body["canceled_at"] is not None
    assert await balances(db, account["id"]) == (Decimal("10000"), Decimal(0))
    again = assert_problem(
        await client.delete(f"{url}/orders/{placed['id']}", headers=headers), 409
    )
    assert again["type"] == "https://quantdesk.dev/problems/order-not-open"
    assert await entries(db, account["id"], EntryKind.RELEASE) == 1
    async with db.session() as session:
        actions = [e.action for e in await audit_service.search(session, action=None)]
    assert actions.count("order.create") == 1 and actions.count("order.cancel") == 1
    await settle()
    updates = [(e.payload.event, e.payload.status) for e in buffered(topic)]  # type: ignore[attr-defined]
    assert updates == [("accepted", "new"), ("canceled", "canceled")]
    await assert_ledger_clean(db)


async def test_replace_ends_the_old_order_replaced_and_places_the_new_one(
    client: httpx.AsyncClient, db: Database, app: FastAPI
) -> None:
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash="10000.00")
    await listed(db)
    topic = await app_state(app).events.subscribe(f"orders.{account['id']}")
    old = (await place(client, headers, url, order(type="limit", limit_price="100"))).json()
    response = await client.patch(
        f"{url}/orders/{old['id']}", json={"limit_price": "90"}, headers=headers
    )
    assert response.status_code == 200, response.text
    new = response.json()
    assert response.headers["location"] == f"{url}/orders/{new['id']}"
    assert (new["replaces"], new["limit_price"], new["qty"], new["hold"]) == (
        old["id"],
        "90.00",
        "10.00",
        "900.00",
    )
    before = (await client.get(f"{url}/orders/{old['id']}", headers=headers)).json()
    assert (before["status"], before["replaced_by"], before["hold"]) == (
        "replaced",
        new["id"],
        "0.00",
    )
    assert before["replaced_at"] is not None
    assert await balances(db, account["id"]) == (Decimal("9100"), Decimal("900"))
    # Prices the order type does not take, and a replacement the checks would reject.
    wrong = assert_problem(
        await client.patch(f"{url}/orders/{new['id']}", json={"stop_price": "80"}, headers=headers),
        422,
    )
    assert [e["field"] for e in wrong["errors"]] == ["body.stop_price"]  # type: ignore[attr-defined]
    empty = assert_problem(
        await client.patch(f"{url}/orders/{new['id']}", json={}, headers=headers), 422
    )
    assert empty["errors"]
    too_big = await client.patch(f"{url}/orders/{new['id']}", json={"qty": "200"}, headers=headers)
    assert assert_problem(too_big, 422)["reject_reason"] == "insufficient_buying_power"
    still = (await client.get(f"{url}/orders/{new['id']}", headers=headers)).json()
    assert (still["status"], still["hold"]) == ("new", "900.00")
    assert await balances(db, account["id"]) == (Decimal("9100"), Decimal("900"))
    closed = await client.patch(f"{url}/orders/{old['id']}", json={"qty": "1"}, headers=headers)
    assert assert_problem(closed, 409)["type"] == "https://quantdesk.dev/problems/order-not-open"
    async with db.session() as session:
        replaced = await audit_service.search(session, action="order.replace")
    assert [(e.resource_id, e.details["replaces"]) for e in replaced] == [(new["id"], old["id"])]
    await settle()
    updates = [(e.payload.event, e.payload.order_id) for e in buffered(topic)]  # type: ignore[attr-defined]
    assert updates == [
        ("accepted", old["id"]),
        ("replaced", old["id"]),
        ("accepted", new["id"]),
    ]  # the refused replacement published nothing
    await assert_ledger_clean(db)


async def test_someone_elses_account_or_order_is_404_like_a_missing_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await trader(client, db)
    url, _ = await account_url(client, owner)
    await listed(db)
    placed = (await place(client, owner, url, order(type="limit", limit_price="90"))).json()
    intruder = await trader(client, db)
    own_url, _ = await account_url(client, intruder)

    def same(theirs: httpx.Response, missing: httpx.Response) -> None:
        a, b = assert_problem(theirs, 404), assert_problem(missing, 404)
        assert (a["type"], a["title"]) == (b["type"], b["title"])

    missing_url = "/api/v1/accounts/" + "0" * 32
    for method, suffix, body in (
        ("GET", "/orders", None),
        ("POST", "/orders", order()),
        ("GET", f"/orders/{placed['id']}", None),
        ("DELETE", f"/orders/{placed['id']}", None),
        ("PATCH", f"/orders/{placed['id']}", {"qty": "1"}),
    ):
        theirs = await client.request(method, url + suffix, json=body, headers=intruder)
        missing = await client.request(method, missing_url + suffix, json=body, headers=intruder)
        same(theirs, missing)
        if "/orders/" in suffix:
            in_own = await client.request(method, own_url + suffix, json=body, headers=intruder)
            absent = await client.request(
                method, f"{own_url}/orders/{'f' * 32}", json=body, headers=intruder
            )
            same(in_own, absent)
    untouched = (await client.get(f"{url}/orders/{placed['id']}", headers=owner)).json()
    assert (untouched["status"], untouched["qty"]) == ("new", "10.00")


async def test_list_filters_by_status_and_symbol_newest_first_in_cursor_pages(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, _ = await account_url(client, headers)
    await listed(db)
    await listed(db, "ZETA")
    ids = []
    for body in (order(), order(symbol="ZETA"), order(symbol="NOPE"), order(qty="2")):
        ids.append((await place(client, headers, url, body)).json().get("id") or "")
    rejected = (await client.get(f"{url}/orders?status=rejected", headers=headers)).json()
    assert [o["symbol"] for o in rejected["data"]] == ["NOPE"]
    await client.delete(f"{url}/orders/{ids[0]}", headers=headers)

    async def symbols(query: str) -> list[tuple[str, str]]:
        response = await client.get(f"{url}/orders{query}", headers=headers)
        assert response.status_code == 200, response.text
        return [(o["symbol"], o["qty"]) for o in response.json()["data"]]

    assert await symbols("?status=open") == [("ACME", "2.00"), ("ZETA", "10.00")]
    assert await symbols("?status=closed") == [("NOPE", "10.00"), ("ACME", "10.00")]
    assert await symbols("?symbol=acme") == [("ACME", "2.00"), ("ACME", "10.00")]
    pages, cursor = [], ""
    while True:
        page = (await client.get(f"{url}/orders?limit=3{cursor}", headers=headers)).json()
        pages.append([o["symbol"] for o in page["data"]])
        if page["meta"]["next_cursor"] is None:
            break
        cursor = f"&cursor={page['meta']['next_cursor']}"
    assert pages == [["ACME", "NOPE", "ZETA"], ["ACME"]]
    bad = assert_problem(await client.get(f"{url}/orders?status=pending", headers=headers), 422)
    assert [e["field"] for e in bad["errors"]] == ["query.status"]  # type: ignore[attr-defined]
