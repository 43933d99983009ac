"""Health probes: liveness, readiness (database + migrations), component detail, Redis."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from quantdesk.access.scopes import Role
from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings, sqlite_url


async def _client_for(**settings: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**settings))  # type: ignore[arg-type]
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def test_live_and_ready_when_migrated(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"


async def test_detailed_reports_components_and_system_to_an_admin(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    body = (await client.get("/health/detailed", headers=admin)).json()
    assert body["status"] == "ok"
    database = body["components"]["database"]
    assert database["status"] == "ok" and database["latency_ms"] >= 0 and database["revision"]
    assert {"cpu", "memory", "disk"} <= set(body["system"])
    assert body["version"] and body["uptime_seconds"] >= 0
    summary = (await client.get("/health", headers=admin)).json()
    assert "system" not in summary and summary["components"]["database"]["status"] == "ok"
    assert summary["components"]["database"]["dialect"]


async def test_anonymous_callers_see_statuses_only(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/health/detailed"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "components": {"database": {"status": "ok"}}}


async def test_the_monitoring_token_sees_details(settings: Settings) -> None:
    token = "monitor-" + secrets.token_urlsafe(24)
    remember(token)
    async for client in _client_for(
        database_url=settings.database_url, monitoring_token=SecretStr(token)
    ):
        body = (
            await client.get("/health/detailed", headers={"Authorization": f"Bearer {token}"})
        ).json()
        assert body["environment"] == "development" and "disk" in body["system"]
        wrong = await client.get("/health/detailed", headers={"Authorization": "Bearer nope"})
        assert_problem(wrong, 401)
        assert "system" not in (await client.get("/health/detailed")).json()


async def test_a_signed_in_non_admin_is_refused_details(
    client: httpx.AsyncClient, db: Database
) -> None:
    analyst = bearer(await login(client, await create_user(db, Role.ANALYST)))
    assert_problem(await client.get("/health/detailed", headers=analyst), 403)
    assert_problem(await client.get("/health", headers=analyst), 403)
    assert (await client.get("/health/live", headers=analyst)).json() == {"status": "ok"}


async def test_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    async for client in _client_for(database_url=sqlite_url(tmp_path / "empty.db")):
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        failing = ready.json()["failing"]
        assert "database" in failing and "quantdesk db upgrade" in failing["database"]["error"]
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/health/detailed")).status_code == 503


async def test_unreachable_postgres_is_not_ready() -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    async for client in _client_for(database_url=url):
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["failing"]["database"]["status"] == "down"


@pytest.mark.redis
async def test_redis_outage_degrades_then_recovers(
    sqlite_template: Path, redis_process: RedisProcess
) -> None:
    async for client in _client_for(
        database_url=sqlite_url(sqlite_template), redis_url=redis_process.url
    ):
        assert (await client.get("/health")).json()["components"]["redis"]["status"] == "ok"
        redis_process.stop()
        try:
            down = await client.get("/health")
            assert down.status_code == 200 and down.json()["status"] == "degraded"
            assert down.json()["components"]["redis"]["status"] == "down"
            ready = await client.get("/health/ready")  # optional: still ready, says degraded
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["degraded"]["redis"]["status"] == "down"
        finally:
            redis_process.start()
        assert (await client.get("/health")).json()["status"] == "ok"
