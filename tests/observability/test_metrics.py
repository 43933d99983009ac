"""Prometheus metrics: request series by route template, the /metrics endpoint and its token,
multiprocess aggregation across worker processes, database query timing, and every series of
the issue showing samples after one event of each family (the per-domain values are tested
beside each domain: tests/marketdata/providers, ratelimit, jobs and signals)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from quantdesk.auth.dependencies import OPEN, route_policy
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import AppError, problem_body, problem_response
from quantdesk.http.edge import EdgeMiddleware
from quantdesk.infra.cache import Cache
from quantdesk.infra.cache.categories import CacheCategory
from quantdesk.infra.cache.memory import MemoryBackend
from quantdesk.jobs import registry
from quantdesk.jobs.registry import JobContext
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.providers.base import BarsQuery
from quantdesk.marketdata.providers.errors import TemporaryProviderError
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.observability import metrics
from quantdesk.ops.metrics_endpoint import metrics_router
from quantdesk.signals.service import signal_service
from tests.support.factories import START_2024, create_instrument, load_bars, synthetic_bars
from tests.support.metrics import run_worker
from tests.support.providers import RecordingSleep
from tests.support.ratelimit import serving, small_config
from tests.support.scripted_providers import ScriptedBars, make_chain
from tests.support.signals import after_close, goog_window

TEMPLATE = "/api/v1/quotes/{symbol}"
ISSUE_METRICS = [
    "api_requests_total",
    "api_request_duration_seconds",
    "provider_requests_total",
    "provider_request_duration_seconds",
    "provider_retries_total",
    "circuit_breaker_state",
    "cache_operations_total",
    "rate_limit_exceeded_total",
    "jobs_total",
    "job_duration_seconds",
    "queue_length",
    "signals_generated_total",
    "signal_generation_duration_seconds",
    "signals_active",
    "db_query_duration_seconds",
]


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


def tiny_app(config: Settings) -> FastAPI:
    """Nested routers like the real /api/v1, the middleware and the /metrics router."""
    quotes = APIRouter(prefix="/quotes", dependencies=[OPEN])

    @quotes.get("/{symbol}")
    async def quote(symbol: str) -> dict[str, str]:
        if symbol == "BOOM":
            raise RuntimeError("unhandled")
        return {"symbol": symbol}

    api = APIRouter(prefix="/api/v1")
    api.include_router(quotes)
    app = FastAPI()
    app.add_exception_handler(AppError, problem)
    app.include_router(api)
    app.include_router(metrics_router(config))
    app.add_middleware(EdgeMiddleware, record_metrics=True)
    return app


async def problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    body = problem_body(status=exc.status, code=exc.code, title=exc.title, detail=exc.detail)
    return problem_response(body, exc.headers)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=tiny_app(settings()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def requests_counted(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("api_requests_total", labels) or 0.0


def durations_counted(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("api_request_duration_seconds_count", labels) or 0.0


async def test_requests_are_counted_and_timed_by_route_template(
    http: httpx.AsyncClient,
) -> None:
    before = requests_counted("GET", TEMPLATE, 200), durations_counted("GET", TEMPLATE, 200)
    for symbol in ("AAPL", "MSFT", "GOOG"):
        assert (await http.get(f"/api/v1/quotes/{symbol}")).status_code == 200
    after = requests_counted("GET", TEMPLATE, 200), durations_counted("GET", TEMPLATE, 200)
    assert (after[0] - before[0], after[1] - before[1]) == (3, 3)
    exposed = (await http.get("/metrics")).text
    assert f'api_requests_total{{method="GET",route="{TEMPLATE}",status="200"}}' in exposed
    assert "AAPL" not in exposed


async def test_unmatched_paths_and_unknown_methods_share_one_label(
    http: httpx.AsyncClient,
) -> None:
    unmatched = requests_counted("GET", metrics.UNMATCHED_ROUTE, 404)
    other = requests_counted("OTHER", TEMPLATE, 405)
    for path in ("/nope", "/wp-admin.php", "/api/v1/quotes"):
        assert (await http.get(path)).status_code == 404
    assert (await http.request("BREW", "/api/v1/quotes/AAPL")).status_code == 405
    assert requests_counted("GET", metrics.UNMATCHED_ROUTE, 404) - unmatched == 3
    assert requests_counted("OTHER", TEMPLATE, 405) - other == 1


async def test_an_unhandled_error_is_recorded_as_a_500(http: httpx.AsyncClient) -> None:
    before = requests_counted("GET", TEMPLATE, 500)
    assert (await http.get("/api/v1/quotes/BOOM")).status_code == 500
    assert requests_counted("GET", TEMPLATE, 500) - before == 1


async def test_every_metric_of_the_issue_is_exposed(http: httpx.AsyncClient) -> None:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    declared = {
        line.split()[2]: line.split()[3]
        for line in response.text.splitlines()
        if line.startswith("# TYPE ")
    }
    assert {name: declared.get(name) for name in ISSUE_METRICS} == {
        name: kind(name) for name in ISSUE_METRICS
    }


def kind(name: str) -> str:
    if name.endswith("_total"):
        return "counter"
    if name.endswith("_seconds"):
        return "histogram"
    return "gauge"


async def test_a_metrics_token_is_required_when_set() -> None:
    app = tiny_app(settings(metrics_token=SecretStr("scrape-secret-123")))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        missing = await client.get("/metrics")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        basic = await client.get("/metrics", headers={"Authorization": "Basic scrape-secret-123"})
        assert basic.status_code == 401
        right = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
        assert right.status_code == 200
        assert "api_requests_total" in right.text


async def test_disabled_metrics_have_no_route() -> None:
    transport = httpx.ASGITransport(app=tiny_app(settings(metrics_enabled=False)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/metrics")).status_code == 404


@pytest.mark.parametrize(
    ("token", "policy"), [(None, "public"), (SecretStr("scrape-secret-123"), "metrics-token")]
)
def test_the_metrics_route_declares_its_access_policy(token: SecretStr | None, policy: str) -> None:
    app = FastAPI()
    app.include_router(metrics_router(settings(metrics_token=token)))
    found = {
        context.path: route_policy(context.dependant.dependencies)
        for context in iter_route_contexts(app.routes)
        if context.path == "/metrics"
    }
    assert found == {"/metrics": policy}


def sample(exposed: str, prefix: str) -> float:
    lines = [line for line in exposed.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, lines
    return float(lines[0].rsplit(" ", 1)[1])


def test_multiprocess_mode_sums_every_workers_values(tmp_path: Path) -> None:
    run_worker(tmp_path, "3", "2", "exit")  # a worker that shut down with its breaker open
    run_worker(tmp_path, "4", "1", "stay")
    exposed = metrics.exposition(str(tmp_path)).decode()
    assert sample(exposed, f'api_requests_total{{method="GET",route="{TEMPLATE}"') == 7
    # The exited worker's live gauge is gone; the running one's half-open state remains.
    assert sample(exposed, 'circuit_breaker_state{provider="demo"}') == 1


async def test_metrics_endpoint_reads_the_multiprocess_directory_when_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, http: httpx.AsyncClient
) -> None:
    run_worker(tmp_path, "5", "0", "stay")
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(tmp_path))
    exposed = (await http.get("/metrics")).text
    assert sample(exposed, f'api_requests_total{{method="GET",route="{TEMPLATE}"') == 5


def test_prepare_multiprocess_dir_empties_it_and_exports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # setenv, not delenv: delenv of an unset variable records nothing to undo, and the
    # directory exported below would then outlive the test.
    monkeypatch.setenv(metrics.MULTIPROC_ENV, "")
    directory = tmp_path / "prometheus"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"left over from the last run")
    prepared = metrics.prepare_multiprocess_dir(directory)
    assert list(directory.iterdir()) == []
    assert os.environ[metrics.MULTIPROC_ENV] == str(prepared)


async def test_instrumented_engines_time_queries_by_operation(tmp_path: Path) -> None:
    def selects() -> float:
        value = REGISTRY.get_sample_value(
            "db_query_duration_seconds_count", {"operation": "select"}
        )
        return value or 0.0

    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    metrics.instrument_engine(engine.sync_engine)
    before = selects()
    try:
        async with engine.connect() as connection:
            for _ in range(3):
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert selects() - before == 3


# --------------------------------------------------------------------------- every family


async def one_provider_call_with_a_retry() -> None:
    flaky = ScriptedBars("exposed-flaky", [TemporaryProviderError("503"), synthetic_bars(30)])
    chain = make_chain([flaky], recorder=MemoryFetchRecorder(), sleep=RecordingSleep())
    query = BarsQuery("BTCUSD", Timeframe.D1, start=START_2024, end=START_2024 + 40 * 86_400)
    assert (await chain.fetch(query)).provider == "exposed-flaky"


async def one_cache_miss() -> None:
    cache = Cache(MemoryBackend())

    async def compute() -> int:
        return 1

    try:
        await cache.get_or_compute(CacheCategory.QUOTES, "exposed", compute)
    finally:
        await cache.aclose()


async def one_refusal() -> None:
    async with serving(small_config()) as (_, limited):
        statuses = [(await limited.get("/api/market")).status_code for _ in range(6)]
    assert statuses[-1] == 429


async def one_job(app: FastAPI) -> None:
    async def nothing(ctx: JobContext) -> None:
        return None

    registry.task("tests.exposed")(nothing)
    try:
        await app.state.jobs.runner.enqueue("tests.exposed")
        await app.state.jobs.runner.drain()
    finally:
        registry.unregister("tests.exposed")


async def one_signal_run(db: Database, config: Settings) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    async with db.session() as session:
        created = await signal_service.generate(session, now=after_close(window), settings=config)
    assert created


def sampled(exposed: str) -> set[str]:
    """Names of the metrics with at least one sample line (not only HELP and TYPE)."""
    names = {
        line.split("{", 1)[0].split(" ", 1)[0]
        for line in exposed.splitlines()
        if line and not line.startswith("#")
    }
    return {name.removesuffix("_bucket") for name in names} | names


async def test_every_series_of_the_issue_has_samples_after_one_event_of_each_family(
    app: FastAPI, db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/health/live")).status_code == 200  # api_*, through the app
    await one_provider_call_with_a_retry()  # provider_*, circuit_breaker_state
    await one_cache_miss()
    await one_refusal()
    await one_job(app)  # jobs_total, job_duration_seconds, queue_length
    await one_signal_run(db, settings)  # signals_*, and db_query_duration_seconds
    response = await client.get("/metrics")
    assert response.status_code == 200
    found = sampled(response.text)
    assert [name for name in ISSUE_METRICS if name not in found] == []
