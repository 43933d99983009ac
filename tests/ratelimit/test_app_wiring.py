"""Rate limiting as wired into the real app (the package itself is tested beside this)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.db import Database
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings, sqlite_url


async def test_guest_tier_headers_then_429(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/instruments")
    assert first.headers["ratelimit-limit"] == "60"
    assert first.headers["x-ratelimit-remaining"] == "59"
    for _ in range(59):
        assert (await client.get("/api/v1/instruments")).status_code == 200
    limited = await client.get("/api/v1/instruments")
    body = assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) > 0
    assert str(body["type"]).endswith("rate-limited")
    # Health probes are not API routes: never limited.
    assert (await client.get("/health/live")).status_code == 200


async def test_bars_raw_response_still_carries_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/bars/NOPE")
    assert response.status_code == 404 and "ratelimit-remaining" in response.headers


async def test_openapi_describes_each_routes_limits(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    login_doc = spec["paths"]["/api/v1/auth/login"]["post"]
    assert "Rate limits" in login_doc["description"] and "429" in login_doc["responses"]
    keys_doc = spec["paths"]["/api/v1/api-keys"]["post"]
    assert "503" in keys_doc["responses"]  # fail-closed policy


@pytest.fixture
async def redis_app_client(
    sqlite_template: Path, tmp_path: Path, redis_process: RedisProcess
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    import shutil

    path = tmp_path / "redis-app.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(make_settings(sqlite_url(path), redis_url=redis_process.url))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, app.state.db


@pytest.mark.redis
async def test_redis_outage_keeps_reads_and_fails_key_creation_closed(
    redis_app_client: tuple[httpx.AsyncClient, Database], redis_process: RedisProcess
) -> None:
    client, db = redis_app_client
    tokens = await login(client, await create_user(db))
    assert (await client.get("/api/v1/instruments")).status_code == 200
    redis_process.stop()
    try:
        assert (await client.get("/api/v1/instruments")).status_code == 200
        created = await client.post(
            "/api/v1/api-keys", json={"name": "during outage"}, headers=bearer(tokens)
        )
        assert_problem(created, 503)
    finally:
        redis_process.start()


async def test_abuse_block_is_audited(
    settings_factory_db: tuple[httpx.AsyncClient, Database],
) -> None:
    from sqlalchemy import select

    from quantdesk.models import AuditEvent

    client, db = settings_factory_db
    statuses = [(await client.get("/api/v1/instruments")).status_code for _ in range(6)]
    # limit 2/minute, block after 2 refusals: 200, 200, 429, 429 (block starts), then 403s
    assert statuses[:4] == [200, 200, 429, 429] and statuses[4:] == [403, 403]
    async with db.session() as session:
        events = (
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.action == "ratelimit.ip_blocked")
                )
            )
            .scalars()
            .all()
        )
    assert len(events) == 1 and events[0].outcome == "denied"


@pytest.fixture
async def settings_factory_db(
    sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    import shutil

    path = tmp_path / "abuse.db"
    shutil.copyfile(sqlite_template, path)
    app = create_app(
        make_settings(sqlite_url(path), rate_limit_guest="2/minute", abuse_429_threshold=2)
    )
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, app.state.db
