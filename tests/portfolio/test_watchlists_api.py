"""/watchlists: CRUD with notes and latest prices, owner only (someone else's list answers
exactly like a missing one), 422 naming the field, limits."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from quantdesk.db import Database
from quantdesk.portfolio import watchlists
from quantdesk.portfolio.money import money_str
from tests.support.paper_alerts import (
    WATCHLISTS,
    error_fields,
    same_problem,
    stock,
    user_headers,
)
from tests.support.problems import assert_problem


@pytest.fixture
async def market(db: Database) -> None:
    """GOOG with bars (so a stored quote), MSFT and AAPL as bare instruments (no quote)."""
    await stock(db, "GOOG", bars=30)
    await stock(db, "MSFT")
    await stock(db, "AAPL")


@pytest.fixture
async def alice(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return await user_headers(client, db)


@pytest.mark.usefixtures("market")
async def test_create_read_update_delete(client: httpx.AsyncClient, alice: dict[str, str]) -> None:
    body = {"name": "Tech", "symbols": [{"symbol": "goog", "note": "search"}, "MSFT"]}
    created = await client.post(WATCHLISTS, json=body, headers=alice)
    assert created.status_code == 201, created.text
    watchlist = created.json()
    assert watchlist["name"] == "Tech"
    assert [i["symbol"] for i in watchlist["items"]] == ["GOOG", "MSFT"]
    goog, msft = watchlist["items"]
    assert goog["note"] == "search" and msft["note"] is None
    # GOOG has a stored quote (from its bars), a decimal string; MSFT has none.
    quote = await client.get("/api/v1/quotes/GOOG", headers=alice)
    assert quote.status_code == 200, quote.text
    # The quote's float, exact as displayed, at the stored 8 decimals, as a string.
    assert goog["price"] == money_str(Decimal(repr(quote.json()["data"]["price"])))
    assert goog["price_as_of"] is not None
    assert msft["price"] is None and msft["price_as_of"] is None

    url = f"{WATCHLISTS}/{watchlist['id']}"
    assert (await client.get(url, headers=alice)).json() == watchlist

    patched = await client.patch(
        url,
        json={"name": "Big tech", "symbols": ["AAPL", {"symbol": "GOOG", "note": "ads"}]},
        headers=alice,
    )
    assert patched.status_code == 200, patched.text
    after = patched.json()
    assert after["name"] == "Big tech"
    assert {i["symbol"]: i["note"] for i in after["items"]} == {"AAPL": None, "GOOG": "ads"}
    kept = next(i for i in after["items"] if i["symbol"] == "GOOG")
    assert kept["added_at"] == goog["added_at"]  # a symbol kept keeps its added_at

    deleted = await client.delete(url, headers=alice)
    assert deleted.status_code == 204
    assert_problem(await client.get(url, headers=alice), 404)


@pytest.mark.usefixtures("market")
async def test_symbols_added_updated_and_removed(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    created = (await client.post(WATCHLISTS, json={"name": "W"}, headers=alice)).json()
    assert created["items"] == []
    symbols = f"{WATCHLISTS}/{created['id']}/symbols"

    added = await client.post(symbols, json={"symbol": "GOOG", "note": "a"}, headers=alice)
    assert added.status_code == 201, added.text
    again = await client.post(symbols, json={"symbol": "goog", "note": "b"}, headers=alice)
    assert again.status_code == 200, again.text
    assert [(i["symbol"], i["note"]) for i in again.json()["items"]] == [("GOOG", "b")]

    assert (await client.delete(f"{symbols}/goog", headers=alice)).status_code == 204
    assert_problem(await client.delete(f"{symbols}/GOOG", headers=alice), 404)
    listed = (await client.get(f"{WATCHLISTS}/{created['id']}", headers=alice)).json()
    assert listed["items"] == []


@pytest.mark.usefixtures("market")
async def test_list_is_own_by_name_in_cursor_pages(
    client: httpx.AsyncClient, db: Database, alice: dict[str, str]
) -> None:
    bob = await user_headers(client, db)
    await client.post(WATCHLISTS, json={"name": "bob's", "symbols": ["GOOG"]}, headers=bob)
    for name in ("c", "a", "b"):
        body = {"name": name, "symbols": ["MSFT", "GOOG"]}
        assert (await client.post(WATCHLISTS, json=body, headers=alice)).status_code == 201

    first = (await client.get(WATCHLISTS, params={"limit": 2}, headers=alice)).json()
    assert [w["name"] for w in first["data"]] == ["a", "b"]
    assert first["data"][0]["symbols"] == ["MSFT", "GOOG"]
    cursor = first["meta"]["next_cursor"]
    second = (
        await client.get(WATCHLISTS, params={"limit": 2, "cursor": cursor}, headers=alice)
    ).json()
    assert [w["name"] for w in second["data"]] == ["c"]
    assert second["meta"]["next_cursor"] is None


@pytest.mark.usefixtures("market")
async def test_someone_elses_watchlist_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, db: Database, alice: dict[str, str]
) -> None:
    bob = await user_headers(client, db)
    theirs = (await client.post(WATCHLISTS, json={"name": "x"}, headers=bob)).json()["id"]
    missing = "f" * 32
    calls = [
        ("GET", "", None),
        ("PATCH", "", {"name": "mine"}),
        ("DELETE", "", None),
        ("POST", "/symbols", {"symbol": "GOOG"}),
        ("DELETE", "/symbols/GOOG", None),
    ]
    for method, tail, body in calls:
        answers = []
        for asked in (theirs, missing):
            response = await client.request(
                method, f"{WATCHLISTS}/{asked}{tail}", json=body, headers=alice
            )
            answers.append(same_problem(assert_problem(response, 404), asked))
        assert answers[0] == answers[1], method + tail
    still = await client.get(f"{WATCHLISTS}/{theirs}", headers=bob)
    assert still.status_code == 200 and still.json()["name"] == "x"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "symbols": ["GOOG", "NOPE"]}, "body.symbols.1.symbol"),
        ({"name": "x", "symbols": [{"symbol": "NOPE", "note": "n"}]}, "body.symbols.0.symbol"),
        ({"name": "x", "symbols": ["bad symbol!"]}, "body.symbols.0.symbol"),
        ({"name": "x", "symbols": ["GOOG", "goog"]}, "body.symbols"),
        ({"name": "x", "symbols": [{"symbol": "GOOG", "colour": "red"}]}, "body.symbols.0.colour"),
        ({"name": "x", "symbols": [{"symbol": "GOOG", "note": "n" * 501}]}, "body.symbols.0.note"),
        ({"name": "x", "symbols": [f"S{i}" for i in range(201)]}, "body.symbols"),
        ({"name": "   "}, "body.name"),
        ({"name": "x", "owner": 3}, "body.owner"),
        ({"symbols": []}, "body.name"),
    ],
)
@pytest.mark.usefixtures("market")
async def test_bad_create_is_422_naming_the_field(
    client: httpx.AsyncClient, alice: dict[str, str], body: dict[str, object], field: str
) -> None:
    problem = assert_problem(await client.post(WATCHLISTS, json=body, headers=alice), 422)
    assert field in error_fields(problem), problem
    errors = problem["errors"]
    assert isinstance(errors, list)
    assert all(isinstance(part, str) for error in errors for part in error["loc"])  # as documented


@pytest.mark.usefixtures("market")
async def test_bad_symbol_added_or_patched_is_422_naming_the_field(
    client: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    created = (await client.post(WATCHLISTS, json={"name": "W"}, headers=alice)).json()
    url = f"{WATCHLISTS}/{created['id']}"
    added = await client.post(f"{url}/symbols", json={"symbol": "NOPE"}, headers=alice)
    assert error_fields(assert_problem(added, 422)) == ["body.symbol"]
    patched = await client.patch(url, json={"symbols": ["GOOG", "NOPE"]}, headers=alice)
    assert error_fields(assert_problem(patched, 422)) == ["body.symbols.1.symbol"]
    empty = await client.patch(url, json={}, headers=alice)
    assert_problem(empty, 422)
    assert (await client.get(url, headers=alice)).json()["items"] == []


@pytest.mark.usefixtures("market")
async def test_limits_and_unique_names_are_409(
    client: httpx.AsyncClient, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watchlists, "MAX_WATCHLISTS_PER_USER", 2)
    monkeypatch.setattr(watchlists, "MAX_SYMBOLS_PER_WATCHLIST", 1)
    first = await client.post(WATCHLISTS, json={"name": "one", "symbols": ["GOOG"]}, headers=alice)
    assert first.status_code == 201
    taken = await client.post(WATCHLISTS, json={"name": "one"}, headers=alice)
    assert str(assert_problem(taken, 409)["type"]).endswith("watchlist-name-taken")
    assert (await client.post(WATCHLISTS, json={"name": "two"}, headers=alice)).status_code == 201
    third = await client.post(WATCHLISTS, json={"name": "three"}, headers=alice)
    assert str(assert_problem(third, 409)["type"]).endswith("watchlist-limit-reached")
    full = await client.post(
        f"{WATCHLISTS}/{first.json()['id']}/symbols", json={"symbol": "MSFT"}, headers=alice
    )
    assert_problem(full, 409)


async def test_anonymous_callers_are_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(WATCHLISTS), 401)
    assert_problem(await client.post(WATCHLISTS, json={"name": "x"}), 401)
