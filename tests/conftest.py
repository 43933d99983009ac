"""Shared fixtures: every API test runs against SQLite and, when its server can be started,
PostgreSQL. Servers are real (tests/support/servers.py); on CI (`CI=true`) a server that cannot
start fails the run instead of skipping.

Isolation: the app commits at the request boundary, so a test cannot run inside one outer
transaction. Instead each SQLite test gets a fresh copy of a migrated template file, and each
PostgreSQL test truncates the tables of one migrated database afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from quantdesk import migrate
from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import Base
from tests.support.secrets_watch import LOG_COLLECTOR, SECRETS
from tests.support.servers import (
    PostgresServer,
    RedisProcess,
    running_postgres,
    running_redis,
)
from tests.support.settings import make_settings, sqlite_url, start_or_skip

T = TypeVar("T")
logging.getLogger().addHandler(LOG_COLLECTOR)


# With pytest-xdist (`make test` runs two workers) each worker searches its own logs and sends
# the counts back; the controller adds them up and fails the run on any leak.
WORKER_REPORTS: list[dict[str, Any]] = []


def _secret_check() -> dict[str, Any]:
    leaks = LOG_COLLECTOR.leaks()
    return {
        "lines": len(LOG_COLLECTOR.lines),
        "secrets": len(SECRETS),
        "leaks": [secret[:6] + "..." for secret in leaks],  # never the whole secret
    }


def _run_secret_check() -> dict[str, Any]:
    reports = [_secret_check(), *WORKER_REPORTS]
    return {
        "lines": sum(report["lines"] for report in reports),
        "secrets": sum(report["secrets"] for report in reports),
        "leaks": sorted({leak for report in reports for leak in report["leaks"]}),
    }


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    report = getattr(node, "workeroutput", {}).get("log_secret_check")
    if report is not None:
        WORKER_REPORTS.append(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole run's logs must not contain any password, token or key a test used."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller judges
        workeroutput["log_secret_check"] = _secret_check()
        return
    if _run_secret_check()["leaks"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if hasattr(terminalreporter.config, "workeroutput"):
        return
    check = _run_secret_check()
    leaks = check["leaks"]
    terminalreporter.write_line(
        f"log secret check: {check['lines']} log lines searched for "
        f"{check['secrets']} test secrets, {len(leaks)} found"
        + (": " + ", ".join(leaks) if leaks else ""),
        red=bool(leaks),
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_postgres())


@pytest.fixture(scope="session")
def redis_process() -> Iterator[RedisProcess]:
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_redis())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "quantdesk.db"
    migrate.upgrade(sqlite_url(path))
    return path


@pytest.fixture(scope="session")
def postgres_migrated_url(postgres_server: PostgresServer) -> str:
    postgres_server.create_database("quantdesk_api")
    url = postgres_server.url("quantdesk_api")
    migrate.upgrade(url)
    return url


TABLES = [table.name for table in Base.metadata.sorted_tables]
# One round trip names the tables holding any row (most tests touch a few of ~60).
NON_EMPTY = " UNION ALL ".join(
    f"SELECT '{name}' FROM (SELECT 1 FROM \"{name}\" LIMIT 1) AS probe" for name in TABLES
)


async def truncate_all(database_url: str) -> None:
    """Empty every table and restart every sequence, as a fresh migration would leave them.

    TRUNCATE of all ~60 tables costs ~0.25 s whatever they hold, twice per PostgreSQL test;
    truncating only the tables with rows and resetting the sequences with `setval` costs ~12 ms.
    """
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        full = [row[0] for row in await connection.fetch(NON_EMPTY)]
        if full:
            names = ", ".join(f'"{name}"' for name in full)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        await connection.execute(
            "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"
        )
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A migrated, empty database: each test runs once per engine."""
    if request.param == "sqlite":
        path = tmp_path / "quantdesk.db"
        shutil.copyfile(sqlite_template, path)
        yield sqlite_url(path)
        return
    url: str = request.getfixturevalue("postgres_migrated_url")
    await truncate_all(url)
    try:
        yield url
    finally:
        await truncate_all(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def db(app: FastAPI) -> Database:
    database: Database = app.state.db
    return database


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
