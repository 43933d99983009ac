"""GET /api/v1/providers, and fetch records written to the database (both engines)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.state import MemoryStateStore
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.providers.base import BarsQuery, FxRatesQuery
from quantdesk.marketdata.providers.errors import NoProviderAnswered
from quantdesk.marketdata.providers.registry import ProviderRuntime, build_provider_runtime
from quantdesk.marketdata.providers.repository import ProviderFetchRepository
from quantdesk.models import FetchStatus
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem
from tests.support.provider_fakes import FakeServer, Reply
from tests.support.providers import RecordingSleep

CSV = "date,open,high,low,close,volume\n2024-01-01,10,11,9,10.5,100\n2024-01-02,10,9,9.5,9.8,100\n"


@pytest.fixture
async def runtime(
    app: FastAPI, db: Database, settings: Settings, server: FakeServer, tmp_path: Path
) -> AsyncIterator[ProviderRuntime]:
    (tmp_path / "TEST_1d.csv").write_text(CSV)
    server.route("/eurofxref-daily.xml", Reply(500, b"<html>down</html>", "text/html"))
    configured = settings.model_copy(
        update={
            "providers_bars": ["csv"],
            "providers_fx_rates": ["ecb"],
            "providers_files_dirs": [tmp_path],
            "ecb_url": server.url + "/eurofxref-daily.xml",
            "providers_retry_attempts": 1,
            "providers_breaker_failure_threshold": 1,
            "providers_rate_per_second": 0.0,
        }
    )
    built = build_provider_runtime(
        configured, MemoryStateStore(), database=db, sleep=RecordingSleep()
    )
    app.state.providers = built
    yield built
    await built.aclose()


async def test_the_app_starts_its_runtime_and_without_one_the_endpoint_says_so(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    assert (await client.get("/api/v1/providers")).status_code == 200
    started = app.state.providers
    app.state.providers = None  # what an app without a running provider runtime has
    try:
        body = assert_problem(await client.get("/api/v1/providers"), 503)
    finally:
        app.state.providers = started
    assert body["type"] == "https://quantdesk.dev/problems/providers-not-started"


async def test_anyone_with_read_tickers_sees_states_and_health_without_details(
    client: httpx.AsyncClient, runtime: ProviderRuntime
) -> None:
    await runtime.fetch(BarsQuery("TEST", Timeframe.D1, start=1_704_067_200, end=1_704_153_600))
    with pytest.raises(NoProviderAnswered):
        await runtime.fetch(FxRatesQuery("EUR"))
    response = await client.get("/api/v1/providers")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"] == {"count": 2, "next_cursor": None}
    by_name = {item["name"]: item for item in body["data"]}
    csv, ecb = by_name["csv"], by_name["ecb"]
    assert csv["breaker"] == "closed" and csv["health"]["success_rate"] == 1.0
    assert csv["chains"] == {"bars": 1, "economic_series": 1, "fund_navs": 1} and csv["kinds"] == [
        "bars",
        "economic_series",
        "fund_navs",
        "fundamentals",
    ]
    assert ecb["breaker"] == "open" and ecb["health"]["success_rate"] == 0.0
    assert csv["details"] is None and ecb["details"] is None


async def test_admins_see_the_last_error_and_thresholds(
    client: httpx.AsyncClient, db: Database, runtime: ProviderRuntime
) -> None:
    with pytest.raises(NoProviderAnswered):
        await runtime.fetch(FxRatesQuery("EUR"))
    analyst = await login(client, await create_user(db, Role.ANALYST))
    plain = (await client.get("/api/v1/providers", headers=bearer(analyst))).json()
    assert all(item["details"] is None for item in plain["data"])
    admin = await login(client, await create_user(db, Role.ADMIN))
    body = (await client.get("/api/v1/providers", headers=bearer(admin))).json()
    ecb = next(item for item in body["data"] if item["name"] == "ecb")
    details = ecb["details"]
    assert details["last_error"].startswith("500 from 127.0.0.1/eurofxref-daily.xml")
    assert details["last_error_at"].endswith("Z") or "+00:00" in details["last_error_at"]
    assert details["breaker"]["failure_threshold"] == 1 and details["breaker"]["failures"] == 1
    assert details["breaker"]["retry_at"] is not None and details["breaker"]["shared"] is False


async def test_fetches_and_quarantined_rows_are_stored(
    db: Database, runtime: ProviderRuntime
) -> None:
    answer = await runtime.fetch(
        BarsQuery("TEST", Timeframe.D1, start=1_704_067_200, end=1_704_153_600)
    )
    assert len(answer.value) == 1
    with pytest.raises(NoProviderAnswered):
        await runtime.fetch(FxRatesQuery("EUR"))
    async with db.session() as session:
        repository = ProviderFetchRepository(session)
        failed, succeeded = await repository.recent()
        quarantined = await repository.quarantined(succeeded.id)
    assert (succeeded.provider, succeeded.kind, succeeded.subject) == ("csv", "bars", "TEST")
    assert succeeded.status is FetchStatus.SUCCESS and succeeded.rows == 1
    assert succeeded.quality_score == 0.5 and succeeded.quality is not None
    assert succeeded.quality["invalid"] == 1
    (row,) = quarantined
    assert row.reason == "high below low" and row.ts == 1_704_153_600
    assert row.row["high"] == 9.0 and row.provider == "csv"
    assert (failed.provider, failed.status, failed.rows) == ("ecb", FetchStatus.FAILED, 0)
    assert failed.error is not None and "500" in failed.error
