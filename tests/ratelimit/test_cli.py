"""`quantdesk ratelimit unblock IP` and `quantdesk ratelimit blocks`, on a shared Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from quantdesk.audit.service import audit_service
from quantdesk.cli import app as cli
from quantdesk.cli_support import with_session
from quantdesk.config import get_settings
from quantdesk.ratelimit import RateLimiter
from tests.support.ratelimit import small_config
from tests.support.servers import RedisProcess


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("QUANTDESK_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _block(url: str, ip: str) -> None:
    async def run() -> None:
        # The key prefix the served app uses (RateLimitConfig's default).
        limiter = RateLimiter(small_config(storage_url=url, abuse_threshold=1))
        try:
            await limiter.abuse.record_violation(ip)
        finally:
            await limiter.aclose()

    asyncio.run(run())


@pytest.mark.redis
def test_unblock_lifts_a_block_in_the_shared_store(
    cli_env: None, redis_process: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_REDIS_URL", redis_process.url)
    get_settings.cache_clear()
    octet = uuid.uuid4().int % 250 + 1  # the session's Redis is shared by every test
    ip = f"198.18.{octet}.{octet}"
    _block(redis_process.url, ip)
    runner = CliRunner()
    listed = runner.invoke(cli, ["ratelimit", "blocks"])
    assert listed.exit_code == 0, listed.output
    assert ip in listed.stdout

    lifted = runner.invoke(cli, ["ratelimit", "unblock", ip])
    assert lifted.exit_code == 0, lifted.output
    assert f"{ip} unblocked" in lifted.output
    assert ip not in runner.invoke(cli, ["ratelimit", "blocks"]).stdout
    again = runner.invoke(cli, ["ratelimit", "unblock", ip])
    assert again.exit_code == 1 and "not blocked" in again.output

    async def unblocked(session: AsyncSession) -> list[str | None]:
        events = await audit_service.search(session, action="ratelimit.ip_unblocked")
        return [event.resource_id for event in events]

    assert with_session(get_settings(), unblocked) == [ip]


def test_unblock_refuses_a_malformed_ip_and_explains_a_missing_shared_store(
    cli_env: None,
) -> None:
    runner = CliRunner()
    malformed = runner.invoke(cli, ["ratelimit", "unblock", "300.1.1.1"])
    assert malformed.exit_code == 2 and "not an IPv4 or IPv6 address" in malformed.output
    unshared = runner.invoke(cli, ["ratelimit", "unblock", "192.0.2.1"])
    assert unshared.exit_code == 1
    assert "DELETE /api/v1/admin/blocks" in " ".join(unshared.output.split())
