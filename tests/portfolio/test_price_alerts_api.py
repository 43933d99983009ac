"""/alerts: create, list (filters, cursor), read, delete, firings listed; owner only (someone
else's alert answers exactly like a missing one); 422 naming the field."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from quantdesk.db import Database
from quantdesk.portfolio.alerts import price_alert_service
from tests.support.paper_alerts import ALERTS, error_fields, same_problem, stock, user_headers
from tests.support.problems import assert_problem

T0 = 1_704_067_200  # 2024-01-01T00:00:00Z


@pytest.fixture
async def alice(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    await stock(db, "GOOG")
    await stock(db, "MSFT")
    return await user_headers(client, db)


async def fire(db: Database, ts: int, price: str, symbol: str = "GOOG") -> int:
    async with db.session() as session:
        fired = await price_alert_service.evaluate(
            session, symbol=symbol, ts=ts, price=Decimal(price)
        )
    return len(fired)


async def test_create_read_list_delete(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    body = {
        "symbol": "goog",
        "condition": "crossing_up",
        "level": "150.5",
        "frequency": "every_bar",
        "expires_at": "2030-01-01",
        "note": "breakout",
    }
    created = await client.post(ALERTS, json=body, headers=alice)
    assert created.status_code == 201, created.text
    alert = created.json()
    assert created.headers["location"] == f"{ALERTS}/{alert['id']}"
    assert {k: alert[k] for k in ("symbol", "condition", "level", "frequency", "status")} == {
        "symbol": "GOOG",
        "condition": "crossing_up",
        "level": "150.50",
        "frequency": "every_bar",
        "status": "active",
    }
    assert alert["expires_at"].startswith("2030-01-01T00:00:00")
    assert alert["note"] == "breakout" and alert["last_price"] is None
    assert alert["trigger_count"] == 0 and alert["last_triggered_at"] is None

    url = f"{ALERTS}/{alert['id']}"
    assert (await client.get(url, headers=alice)).json() == alert
    defaults = await client.post(
        ALERTS, json={"symbol": "MSFT", "condition": "below", "level": "10"}, headers=alice
    )
    assert defaults.json()["frequency"] == "once" and defaults.json()["expires_at"] is None

    listed = (await client.get(ALERTS, headers=alice)).json()
    assert [a["id"] for a in listed["data"]] == [defaults.json()["id"], alert["id"]]

    assert (await client.delete(url, headers=alice)).status_code == 204
    assert_problem(await client.get(url, headers=alice), 404)
    assert_problem(await client.delete(url, headers=alice), 404)


async def test_list_filters_and_cursor(
    client: httpx.AsyncClient, db: Database, alice: dict[str, str]
) -> None:
    ids = []
    for symbol, level in (("GOOG", "100"), ("MSFT", "100"), ("GOOG", "200")):
        body = {"symbol": symbol, "condition": "above", "level": level}
        ids.append((await client.post(ALERTS, json=body, headers=alice)).json()["id"])
    assert await fire(db, T0, "150") == 1  # GOOG above 100 fires (once -> triggered)

    async def listed(**params: str) -> list[str]:
        response = await client.get(ALERTS, params=params, headers=alice)
        assert response.status_code == 200, response.text
        return [a["id"] for a in response.json()["data"]]

    assert await listed(symbol="goog") == [ids[2], ids[0]]
    assert await listed(status="triggered") == [ids[0]]
    assert await listed(status="active", symbol="GOOG") == [ids[2]]

    first = (await client.get(ALERTS, params={"limit": 2}, headers=alice)).json()
    assert [a["id"] for a in first["data"]] == [ids[2], ids[1]]
    params = {"limit": 2, "cursor": first["meta"]["next_cursor"]}
    second = (await client.get(ALERTS, params=params, headers=alice)).json()
    assert [a["id"] for a in second["data"]] == [ids[0]]
    assert second["meta"]["next_cursor"] is None

    bad = await client.get(ALERTS, params={"status": "sleeping"}, headers=alice)
    assert error_fields(assert_problem(bad, 422)) == ["query.status"]
    forged = await client.get(ALERTS, params={"cursor": "abc.def"}, headers=alice)
    assert error_fields(assert_problem(forged, 422)) == ["query.cursor"]


async def test_firings_are_listed_newest_first(
    client: httpx.AsyncClient, db: Database, alice: dict[str, str]
) -> None:
    every = {"symbol": "GOOG", "condition": "above", "level": "100", "frequency": "every_bar"}
    every_id = (await client.post(ALERTS, json=every, headers=alice)).json()["id"]
    below = {"symbol": "GOOG", "condition": "below", "level": "90"}
    below_id = (await client.post(ALERTS, json=below, headers=alice)).json()["id"]
    assert await fire(db, T0, "101") == 1
    assert await fire(db, T0 + 86_400, "102.25") == 1
    assert await fire(db, T0 + 2 * 86_400, "89") == 1

    everything = (await client.get(f"{ALERTS}/triggers", headers=alice)).json()
    assert [(t["alert_id"], t["bar_ts"], t["price"]) for t in everything["data"]] == [
        (below_id, T0 + 2 * 86_400, "89.00"),
        (every_id, T0 + 86_400, "102.25"),
        (every_id, T0, "101.00"),
    ]
    newest = everything["data"][1]
    assert newest["condition"] == "above" and newest["level"] == "100.00"

    mine = await client.get(f"{ALERTS}/{every_id}/triggers", params={"limit": 1}, headers=alice)
    page = mine.json()
    assert [t["bar_ts"] for t in page["data"]] == [T0 + 86_400]
    more = await client.get(
        f"{ALERTS}/{every_id}/triggers",
        params={"limit": 1, "cursor": page["meta"]["next_cursor"]},
        headers=alice,
    )
    assert [t["bar_ts"] for t in more.json()["data"]] == [T0]

    read = (await client.get(f"{ALERTS}/{every_id}", headers=alice)).json()
    assert read["trigger_count"] == 2 and read["status"] == "active"
    assert read["last_price"] == "89.00"  # evaluated on the last event, without firing
    assert read["last_triggered_at"].startswith("2024-01-02T00:00:00")


async def test_someone_elses_alert_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, db: Database, alice: dict[str, str]
) -> None:
    bob = await user_headers(client, db)
    body = {"symbol": "GOOG", "condition": "above", "level": "1", "frequency": "every_bar"}
    theirs = (await client.post(ALERTS, json=body, headers=bob)).json()["id"]
    assert await fire(db, T0, "5") == 1
    missing = "0" * 32
    for method, tail in (("GET", ""), ("GET", "/triggers"), ("DELETE", "")):
        answers = []
        for asked in (theirs, missing):
            response = await client.request(method, f"{ALERTS}/{asked}{tail}", headers=alice)
            answers.append(same_problem(assert_problem(response, 404), asked))
        assert answers[0] == answers[1], method + tail
    assert (await client.get(ALERTS, headers=alice)).json()["data"] == []
    assert (await client.get(f"{ALERTS}/triggers", headers=alice)).json()["data"] == []
    assert (await client.get(f"{ALERTS}/{theirs}", headers=bob)).status_code == 200


GOOD = {"symbol": "GOOG", "condition": "above", "level": "100"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"symbol": "NOPE"}, "body.symbol"),
        ({"symbol": "no good!"}, "body.symbol"),
        ({"condition": "sideways"}, "body.condition"),
        ({"level": 100.5}, "body.level"),
        ({"level": "-3"}, "body.level"),
        ({"level": "1.123456789"}, "body.level"),
        ({"level": "lots"}, "body.level"),
        ({"frequency": "hourly"}, "body.frequency"),
        ({"expires_at": "2030-01-01T10:00:00"}, "body.expires_at"),
        ({"note": "n" * 501}, "body.note"),
        ({"colour": "red"}, "body.colour"),
    ],
)
async def test_bad_alert_is_422_naming_the_field(
    client: httpx.AsyncClient, alice: dict[str, str], change: dict[str, object], field: str
) -> None:
    response = await client.post(ALERTS, json={**GOOD, **change}, headers=alice)
    assert field in error_fields(assert_problem(response, 422))


async def test_missing_fields_are_named(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await client.post(ALERTS, json={}, headers=alice)
    fields = set(error_fields(assert_problem(response, 422)))
    assert {"body.symbol", "body.condition", "body.level"} <= fields


async def test_anonymous_callers_are_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(ALERTS), 401)
    assert_problem(await client.get(f"{ALERTS}/triggers"), 401)
    assert_problem(await client.post(ALERTS, json=GOOD), 401)
