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
from typing import Any, NoReturn, TypeVar

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from quantdesk import migrate
from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import Base
from tests.secrets_watch import SECRETS, LogCollector
from tests.support.servers import (
    PostgresServer,
    RedisProcess,
    ServerUnavailable,
    running_postgres,
    running_redis,
    server_required,
)

T = TypeVar("T")
LOG_COLLECTOR = LogCollector()
logging.getLogger().addHandler(LOG_COLLECTOR)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole run's logs must not contain any password, token or key a test used."""
    if LOG_COLLECTOR.leaks():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    leaks = LOG_COLLECTOR.leaks()
    terminalreporter.write_line(
        f"log secret check: {len(LOG_COLLECTOR.lines)} log lines searched for "
        f"{len(SECRETS)} test secrets, {len(leaks)} found"
        + (": " + ", ".join(secret[:6] + "..." for secret in leaks) if leaks else ""),
        red=bool(leaks),
    )


def unavailable(exc: ServerUnavailable) -> NoReturn:
    if server_required():
        pytest.fail(f"server required on CI but unavailable: {exc}")
    pytest.skip(f"server unavailable: {exc}")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: no .env file, development unless overridden; no gc.freeze (the
    suite builds hundreds of apps, and frozen objects are never collected) and no kernel
    warm-up thread per app (tests that want it turn it on)."""
    overrides.setdefault("gc_freeze_at_startup", False)
    overrides.setdefault("warm_kernels_at_startup", False)
    return Settings(_env_file=None, database_url=database_url, **overrides)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def start_or_skip(stack: contextlib.ExitStack, server: contextlib.AbstractContextManager[T]) -> T:
    """Enter a server's context on `stack`; skip (fail on CI) when it cannot start."""
    try:
        return stack.enter_context(server)
    except ServerUnavailable as exc:
        unavailable(exc)


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


async def truncate_all(database_url: str) -> None:
    db = Database(make_settings(database_url))
    try:
        async with db.engine.begin() as connection:
            names = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


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
