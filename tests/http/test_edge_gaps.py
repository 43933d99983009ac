"""Edge gaps: duplicate Content-Type, oversized headers (431), a busy database (503)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from quantdesk.http.edge import EdgeMiddleware
from tests.support.http import assert_exact_problem as assert_problem
from tests.support.http import client_for


class Order(BaseModel):
    symbol: str
    extra: Any = None


def make_app(**edge: Any) -> FastAPI:
    app = FastAPI()
    app.state.calls = 0

    @app.post("/orders")
    async def orders(order: Order) -> dict[str, str]:
        app.state.calls += 1
        return {"symbol": order.symbol}

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "pong"}

    @app.get("/locked")
    async def locked() -> None:
        raise OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))

    @app.get("/broken")
    async def broken() -> None:
        raise OperationalError("SELECT x", {}, sqlite3.OperationalError("no such table: x"))

    app.add_middleware(EdgeMiddleware, body_limits={"max_json_depth": 4}, **edge)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(max_header_bytes=2048, max_head_bytes=4096)
    async with client_for(app) as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def test_two_content_types_are_refused_before_the_body_is_parsed(
    client: httpx.AsyncClient,
) -> None:
    deep = b'{"symbol": "X", "extra": [[[[[[[[1]]]]]]]]}'
    # The parser would read the first (JSON), the body limits the last (not JSON, unchecked).
    sent = [
        ("Content-Type", "application/json"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ]
    response = await client.post("/orders", content=deep, headers=sent)
    body = assert_problem(response, 400, "duplicate-content-type")
    assert body["errors"][0]["field"] == "header.content-type"  # type: ignore[index]
    assert client.app.state.calls == 0  # type: ignore[attr-defined]
    # One Content-Type: the depth limit applies as before.
    one = await client.post("/orders", content=deep, headers={"Content-Type": "application/json"})
    assert_problem(one, 422, "validation-error")


async def test_oversized_headers_are_431(client: httpx.AsyncClient) -> None:
    assert (await client.get("/ping", headers={"X-Note": "a" * 1500})).status_code == 200
    one = await client.get("/ping", headers={"X-Note": "a" * 3000})
    body = assert_problem(one, 431, "header-fields-too-large")
    assert body["errors"][0]["field"] == "header.x-note"  # type: ignore[index]
    many = await client.get("/ping", headers={f"X-Note-{n}": "a" * 1500 for n in range(3)})
    body = assert_problem(many, 431, "header-fields-too-large")
    assert body["errors"][0]["field"] == "header.headers"  # type: ignore[index]
    # Refused before the app: not even a body is read.
    refused = await client.post("/orders", json={"symbol": "X"}, headers={"X-Big": "b" * 5000})
    assert refused.status_code == 431
    assert client.app.state.calls == 0  # type: ignore[attr-defined]


async def test_default_header_limits() -> None:
    async with client_for(make_app()) as http:
        assert (await http.get("/ping", headers={"X-Note": "a" * 15_000})).status_code == 200
        huge = await http.get("/ping", headers={"X-Note": "a" * 10_000_000})
        assert_problem(huge, 431, "header-fields-too-large")
        total = await http.get("/ping", headers={f"X-{n}": "a" * 12_000 for n in range(3)})
        assert_problem(total, 431, "header-fields-too-large")
    with pytest.raises(ValueError, match="header limits"):
        EdgeMiddleware(FastAPI(), max_header_bytes=10_000, max_head_bytes=5_000)


async def test_a_lock_wait_past_busy_timeout_is_503_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    busy = await client.get("/locked")
    assert_problem(busy, 503, "database-busy")
    assert int(busy.headers["Retry-After"]) >= 1
    # Any other database error is still the anonymous 500.
    assert_problem(await client.get("/broken"), 500, "internal-error")
