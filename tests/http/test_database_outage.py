"""PostgreSQL stopped under a running app: 503 problem+json (not 500), readiness 503, and
everything served again once it is back (pool_pre_ping drops the dead connections)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk import migrate
from quantdesk.app import create_app
from quantdesk.db import Database
from quantdesk.http.db_outage import database_unavailable
from tests.support.accounts import bearer, create_user, login
from tests.support.common import ServerUnavailable
from tests.support.pg_outage import StoppablePostgres, stoppable_postgres
from tests.support.problems import assert_problem
from tests.support.settings import make_settings, unavailable

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_app() -> AsyncIterator[tuple[httpx.AsyncClient, Database, StoppablePostgres]]:
    with contextlib.ExitStack() as stack:
        try:
            postgres = stack.enter_context(stoppable_postgres())
        except ServerUnavailable as exc:
            unavailable(exc)
        postgres.server.create_database("outage")
        url = postgres.server.url("outage")
        await asyncio.to_thread(migrate.upgrade, url)
        app = create_app(make_settings(url))
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield client, app.state.db, postgres


async def test_postgres_down_is_503_not_500_and_recovers(
    pg_app: tuple[httpx.AsyncClient, Database, StoppablePostgres],
) -> None:
    client, db, postgres = pg_app
    account = await create_user(db)
    tokens = await login(client, account)
    assert (await client.get("/api/v1/accounts", headers=bearer(tokens))).status_code == 200
    postgres.stop()
    try:
        for _ in range(2):  # the pooled connection dropped, then a refused new one
            listed = await client.get("/api/v1/accounts", headers=bearer(tokens))
            body = assert_problem(listed, 503)
            assert str(body["type"]).endswith("/database-unavailable")
            assert int(listed.headers["Retry-After"]) >= 1
        signed = await client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        assert_problem(signed, 503)
        assert (await client.get("/health/ready")).status_code == 503
    finally:
        await asyncio.to_thread(postgres.start)
    assert (await client.get("/health/ready")).status_code == 200
    assert (await client.get("/api/v1/accounts", headers=bearer(tokens))).status_code == 200
    await login(client, account)


def _refused_outside_the_database() -> BaseException:
    try:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
    except ConnectionRefusedError as exc:
        return exc


def test_a_refused_connection_elsewhere_is_not_a_database_outage() -> None:
    """An HTTP client's refused connection (a provider) stays a 500 for the edge."""
    assert not database_unavailable(_refused_outside_the_database())
    assert not database_unavailable(ValueError("bad"))
