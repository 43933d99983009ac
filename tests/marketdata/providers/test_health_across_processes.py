"""GET /api/v1/providers tells what the job path did: a job's failing fetches (run by the
serving app's in-process runner, or by a worker with its own runtime) show up in the API's
health figures, last error and breaker state, as they do in `provider_fetches` and /metrics."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from quantdesk.access.scopes import Role
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.jobs.registry import JobContext, get_task
from quantdesk.models import ProviderFetch
from quantdesk.tasks import load_tasks
from tests.support.accounts import bearer, create_user, login
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/eurofxref-daily.xml"


def _offline_ecb(database_url: str, **overrides: Any) -> Settings:
    return make_settings(
        database_url,
        providers_fx_rates=["ecb"],
        ecb_url=_closed_port_url(),
        jobs_fx_bases=["EUR", "USD"],
        providers_breaker_failure_threshold=2,
        providers_rate_per_second=0.0,
        **overrides,
    )


async def _ecb(client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    response = await client.get("/api/v1/providers", headers=admin)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = next(item for item in response.json()["data"] if item["name"] == "ecb")
    return found


async def _fetches(db: Database) -> list[ProviderFetch]:
    async with db.session() as session:
        query = select(ProviderFetch).where(ProviderFetch.provider == "ecb")
        return list((await session.scalars(query.order_by(ProviderFetch.id))).all())


def _assert_consistent(ecb: dict[str, Any], fetches: list[ProviderFetch]) -> None:
    """Two failed calls (one per base) recorded, and /providers says the same."""
    assert [(f.subject, f.healthy) for f in fetches] == [("EUR", False), ("USD", False)]
    assert ecb["health"]["samples"] == 2 and ecb["health"]["errors"] == 2
    assert ecb["health"]["success_rate"] == 0.0
    assert ecb["details"]["last_error"] == fetches[-1].error
    assert "unreachable" in ecb["details"]["last_error"]
    # Two consecutive failures reach the threshold (2): the breaker every process uses is open.
    assert ecb["breaker"] == "open" and ecb["details"]["breaker"]["failures"] == 2


class TestInProcessJobs:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return _offline_ecb(database_url)

    async def test_a_failing_job_fetch_shows_in_the_apis_provider_health(
        self, app: FastAPI, client: httpx.AsyncClient, db: Database
    ) -> None:
        admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
        response = await client.post("/api/v1/jobs/fx.fetch_rates/run", headers=admin)
        assert response.status_code == 202, response.text
        runner = app.state.jobs.runner
        assert isinstance(runner, InProcessRunner)
        await runner.drain()

        _assert_consistent(await _ecb(client, db), await _fetches(db))


@pytest.mark.redis
class TestWorkerJobs:
    @pytest.fixture
    def settings(self, database_url: str, redis_process: RedisProcess) -> Settings:
        return _offline_ecb(database_url, redis_url=redis_process.url)

    async def test_a_failing_fetch_in_a_worker_shows_in_the_apis_provider_health(
        self, app: FastAPI, client: httpx.AsyncClient, db: Database, settings: Settings
    ) -> None:
        # The session's Redis outlives tests: start from a closed breaker.
        await app.state.providers.slots["ecb"].breaker.reset()
        # A worker process: its own settings and provider runtime, the shared database and Redis.
        worker_settings = settings.model_copy()
        worker_db = Database(worker_settings)
        load_tasks()
        context = JobContext(
            db=worker_db,
            settings=worker_settings,
            name="fx.fetch_rates",
            task_id="worker",
            attempt=1,
            enqueue=app.state.jobs.runner.enqueue,
        )
        try:
            with pytest.raises(Exception, match="ecb unreachable"):
                await get_task("fx.fetch_rates").fn(context)
        finally:
            await worker_db.dispose()

        _assert_consistent(await _ecb(client, db), await _fetches(db))
