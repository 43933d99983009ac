"""Sign-ins and sign-ups fail closed while Redis is down (per-process counting would multiply
the brute-force allowance by the replicas); reads keep serving; both come back with Redis."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.db import Database
from quantdesk.ratelimit.policies import POLICIES
from tests.support.accounts import create_user, login
from tests.support.problems import assert_problem
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings, sqlite_url

pytestmark = pytest.mark.redis
RETRY_SECONDS = 0.5


@pytest.fixture
async def app_on_redis(
    sqlite_template: Path, tmp_path: Path, redis_process: RedisProcess
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    path = tmp_path / "auth-redis.db"
    shutil.copyfile(sqlite_template, path)
    settings = make_settings(
        sqlite_url(path),
        redis_url=redis_process.url,
        rate_limit_redis_retry_seconds=RETRY_SECONDS,
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, app.state.db


def test_sign_in_and_sign_up_policies_fail_closed() -> None:
    assert POLICIES["auth-login"].fail_closed and POLICIES["auth-register"].fail_closed


async def test_redis_outage_refuses_sign_ins_and_sign_ups_with_503(
    app_on_redis: tuple[httpx.AsyncClient, Database], redis_process: RedisProcess
) -> None:
    client, db = app_on_redis
    account = await create_user(db)
    credentials = {"email": account.email, "password": account.password}
    await login(client, account)
    redis_process.stop()
    try:
        assert (await client.get("/api/v1/instruments")).status_code == 200
        signed = await client.post("/api/v1/auth/login", json=credentials)
        body = assert_problem(signed, 503)
        assert str(body["type"]).endswith("/rate-limit-unavailable")
        assert int(signed.headers["Retry-After"]) >= 1
        fresh = {"email": "outage@example.com", "password": account.password}
        assert_problem(await client.post("/api/v1/auth/register", json=fresh), 503)
    finally:
        redis_process.start()
    await asyncio.sleep(RETRY_SECONDS + 0.1)
    await login(client, account)
