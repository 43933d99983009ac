"""Health probes: liveness, readiness (database + migrations), component detail, Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from tests.conftest import make_settings, sqlite_url
from tests.support.servers import RedisProcess


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


async def test_detailed_reports_components_and_system(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health/detailed")).json()
    assert body["status"] == "ok"
    database = body["components"]["database"]
    assert database["status"] == "ok" and database["latency_ms"] >= 0 and database["revision"]
    assert {"cpu", "memory", "disk"} <= set(body["system"])
    assert body["version"] and body["uptime_seconds"] >= 0
    summary = (await client.get("/health")).json()
    assert "system" not in summary and summary["components"]["database"]["status"] == "ok"


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
            assert (await client.get("/health/ready")).status_code == 200  # optional component
        finally:
            redis_process.start()
        assert (await client.get("/health")).json()["status"] == "ok"
