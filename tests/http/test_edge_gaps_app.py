"""Edge gaps on the real app: an empty X-API-Key, LIKE wildcards in instrument search, and a
SQLite write lock held past busy_timeout."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from quantdesk.db import Database
from tests.support.accounts import new_password
from tests.support.factories import create_instrument
from tests.support.http import assert_exact_problem as assert_problem


async def test_an_empty_api_key_is_401_not_anonymous(client: httpx.AsyncClient) -> None:
    for value in ("", "   "):
        response = await client.get("/api/v1/instruments", headers={"X-API-Key": value})
        assert_problem(response, 401, "unauthorized")
    assert (await client.get("/api/v1/instruments")).status_code == 200


async def test_search_treats_like_wildcards_as_text(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_instrument(db, "AAA", name="Alpha Corp")
    await create_instrument(db, "BBB", name="Beta 50% Fund")
    await create_instrument(db, "CCC", name="Gamma_Line")

    async def found(q: str) -> list[str]:
        response = await client.get("/api/v1/instruments", params={"q": q})
        assert response.status_code == 200, response.text
        return [item["symbol"] for item in response.json()["data"]]

    assert await found("%") == ["BBB"]
    assert await found("_") == ["CCC"]
    assert await found("a_c") == []  # as a wildcard, "_" would match "Alpha Corp"
    assert await found("a") == ["AAA", "BBB", "CCC"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's busy_timeout
async def test_a_write_lock_held_past_busy_timeout_is_503(
    client: httpx.AsyncClient, database_url: str
) -> None:
    path = database_url.split("///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": "locked@example.com", "password": new_password()},
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_problem(response, 503, "database-busy")
    assert int(response.headers["Retry-After"]) >= 1
