"""GET /backtests: the caller's own runs, newest first, in cursor pages."""

from __future__ import annotations

import httpx

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.engine.backtest import Bars
from tests.support.backtests import REQUEST, SWEEP, URL, signed_in, wait_for
from tests.support.problems import assert_problem


async def _all_pages(client: httpx.AsyncClient, headers: dict[str, str], limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(f"{URL}{query}", headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"data", "meta"}
        assert page["meta"]["count"] == len(page["data"]) <= limit
        ids += [run["id"] for run in page["data"]]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return ids


async def test_each_user_lists_only_their_own_runs_newest_first(
    client: httpx.AsyncClient, db: Database, goog: Bars, premium: dict[str, str]
) -> None:
    other = await signed_in(client, db, Role.PREMIUM)
    mine: list[str] = []
    theirs: list[str] = []
    for index in range(5):
        body = {**REQUEST, "params": {"fast": 5 + index, "slow": 30}}
        mine.append((await client.post(URL, json=body, headers=premium)).json()["id"])
        if index % 2 == 0:
            theirs.append((await client.post(URL, json=REQUEST, headers=other)).json()["id"])
    mine.append((await client.post(f"{URL}/sweep", json=SWEEP, headers=premium)).json()["id"])
    for run_id in mine:
        await wait_for(client, run_id, premium)

    listed = await _all_pages(client, premium, limit=2)
    assert listed == mine[::-1]  # newest first, every run once, across pages of 2
    assert await _all_pages(client, other, limit=2) == theirs[::-1]
    assert not set(listed) & set(theirs)

    first = (await client.get(f"{URL}?limit=100", headers=premium)).json()["data"]
    sweep, single = first[0], first[-1]
    assert (sweep["kind"], sweep["status"], sweep["equity_final"]) == ("sweep", "completed", None)
    assert sweep["params"] == SWEEP["grid"] or "fast" in sweep["params"]
    assert (single["kind"], single["status"], single["symbol"]) == ("single", "completed", "GOOG")
    assert single["params"] == {"fast": 5, "slow": 30}
    detail = (await client.get(f"{URL}/{single['id']}", headers=premium)).json()
    assert single["equity_final"] == detail["stats"]["equity_final"]


async def test_no_runs_is_an_empty_page(client: httpx.AsyncClient, premium: dict[str, str]) -> None:
    page = (await client.get(URL, headers=premium)).json()
    assert page == {"data": [], "meta": {"count": 0, "next_cursor": None}}


async def test_bad_cursor_and_limit_are_422_and_the_list_needs_sign_in(
    client: httpx.AsyncClient, premium: dict[str, str]
) -> None:
    body = assert_problem(await client.get(f"{URL}?cursor=forged", headers=premium), 422)
    assert "cursor" in str(body)
    assert_problem(await client.get(f"{URL}?limit=0", headers=premium), 422)
    assert_problem(await client.get(f"{URL}?limit=101", headers=premium), 422)
    assert_problem(await client.get(URL), 401)
