"""GET/DELETE /api/v1/admin/cache (system:admin) and the X-Cache header helper."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Response

from quantdesk.access.scopes import Role
from quantdesk.auth.dependencies import OPEN
from quantdesk.db import Database
from quantdesk.infra.cache import Cache, CacheCategory, MemoryBackend, symbol_tag
from quantdesk.infra.cache.dependencies import set_cache_header
from quantdesk.ops.cache_endpoints import router as cache_router
from tests.support.accounts import bearer, create_user, login
from tests.support.cache import Compute, FakeClock
from tests.support.problems import assert_problem

QUOTES = CacheCategory.QUOTES
URL = "/api/v1/admin/cache"


@pytest.fixture
async def cache(app: FastAPI) -> AsyncIterator[Cache]:
    app.include_router(cache_router, prefix="/api/v1")
    previous = getattr(app.state, "cache", None)
    app.state.cache = Cache(MemoryBackend(100))
    yield app.state.cache
    await app.state.cache.aclose()
    app.state.cache = previous


async def test_cache_admin_needs_system_admin(
    client: httpx.AsyncClient, db: Database, cache: Cache
) -> None:
    assert_problem(await client.get(URL), 401)
    analyst = await login(client, await create_user(db, Role.ANALYST))
    body = assert_problem(await client.get(URL, headers=bearer(analyst)), 403)
    assert "system:admin" in str(body["detail"])
    assert_problem(
        await client.delete(URL, params={"tag": "category:quotes"}, headers=bearer(analyst)), 403
    )


async def test_stats_per_category(client: httpx.AsyncClient, db: Database, cache: Cache) -> None:
    compute = Compute()
    for _ in range(3):
        await cache.get_or_compute(QUOTES, "AAPL", compute)
    await cache.get_or_compute(CacheCategory.NEWS, "AAPL", compute)
    admin = await login(client, await create_user(db, Role.ADMIN))
    response = await client.get(URL, headers=bearer(admin))
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("backend", "enabled", "shared", "degraded")} == {
        "backend": "memory",
        "enabled": True,
        "shared": False,
        "degraded": False,
    }
    assert set(body["categories"]) == {category.value for category in CacheCategory}
    assert body["categories"]["quotes"] == {
        "ttl_seconds": 30.0,
        "stale_ttl_seconds": 300.0,
        "hits": 2,
        "misses": 1,
        "stale": 0,
        "size": 1,
    }
    assert body["categories"]["news"]["misses"] == 1


async def test_delete_flushes_one_tag(
    client: httpx.AsyncClient, db: Database, cache: Cache
) -> None:
    compute = Compute()
    for symbol in ("AAPL", "MSFT"):
        await cache.get_or_compute(QUOTES, symbol, compute, tags=[symbol_tag(QUOTES, symbol)])
    admin = await login(client, await create_user(db, Role.ADMIN))
    response = await client.delete(URL, params={"tag": "quotes:AAPL"}, headers=bearer(admin))
    assert response.status_code == 200
    assert response.json() == {"tag": "quotes:AAPL", "invalidated": 1}
    assert (await cache.get_or_compute(QUOTES, "AAPL", compute))[1] == "miss"
    assert (await cache.get_or_compute(QUOTES, "MSFT", compute))[1] == "hit"
    again = await client.delete(URL, params={"tag": "quotes:AAPL"}, headers=bearer(admin))
    assert again.json()["invalidated"] == 0
    missing = assert_problem(await client.delete(URL, headers=bearer(admin)), 422)
    assert missing["errors"]


async def test_set_cache_header_reports_hit_miss_and_stale() -> None:
    app = FastAPI()
    clock = FakeClock()
    cache = Cache(MemoryBackend(10), clock=clock)
    compute = Compute()

    @app.get("/quotes/{symbol}", dependencies=[OPEN])
    async def quote(symbol: str, response: Response) -> dict[str, str]:
        value, status = await cache.get_or_compute(QUOTES, symbol, compute)
        set_cache_header(response, status)
        return {"price": value}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        first = await http.get("/quotes/AAPL")
        second = await http.get("/quotes/AAPL")
        clock.advance(31)
        third = await http.get("/quotes/AAPL")
    assert [r.headers["X-Cache"] for r in (first, second, third)] == ["miss", "hit", "stale"]
    assert [r.json()["price"] for r in (first, second, third)] == ["v1", "v1", "v1"]
    await cache.wait_background()
    await cache.aclose()
