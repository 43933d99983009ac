"""Redis storage: counts shared between limiters, per-process fallback while Redis is down,
fail-closed writes, and recovery when it comes back."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from quantdesk.access.scopes import Role
from quantdesk.ratelimit import RateLimitConfig, RateLimiter, storage
from quantdesk.ratelimit.policies import parse_limit
from tests.support.ratelimit import limiter_of, serving, small_config, user
from tests.support.servers import RedisProcess

pytestmark = pytest.mark.redis


def redis_config(url: str, **overrides: Any) -> RateLimitConfig:
    # A fresh key prefix per test: the session's Redis is shared by every test.
    return small_config(storage_url=url, key_prefix=f"test:{uuid.uuid4().hex}", **overrides)


@pytest.fixture
async def two_limiters(
    redis_process: RedisProcess,
) -> AsyncIterator[tuple[RateLimiter, RateLimiter]]:
    config = redis_config(redis_process.url)
    first, second = RateLimiter(config), RateLimiter(config)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


async def test_limiters_on_one_redis_share_exact_counts(
    two_limiters: tuple[RateLimiter, RateLimiter],
) -> None:
    first, second = two_limiters
    item = parse_limit("7/minute")
    decisions = [
        await (first if n % 2 else second).hit("ip:1.2.3.4", item, fail_closed=True)
        for n in range(10)
    ]
    assert [d.allowed for d in decisions] == [True] * 7 + [False] * 3
    assert [d.remaining for d in decisions[:7]] == [6, 5, 4, 3, 2, 1, 0]
    assert all(d.shared for d in decisions)
    assert 1 <= decisions[-1].retry_after <= 120


async def test_a_block_made_by_one_process_is_enforced_by_another(
    two_limiters: tuple[RateLimiter, RateLimiter],
) -> None:
    first, second = two_limiters
    for _ in range(first.config.abuse_threshold):
        await first.abuse.record_violation("192.0.2.77")
    block = await second.abuse.check("192.0.2.77")
    assert block is not None and block.reason == "abuse"
    assert await second.abuse.check("192.0.2.78") is None


class RecordingLog:
    def __init__(self) -> None:
        self.events: list[str] = []

    def warning(self, event: str, **_: Any) -> None:
        self.events.append(event)


async def test_redis_outage_keeps_reads_working_fails_writes_closed_and_recovers(
    redis_process: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordingLog()
    monkeypatch.setattr(storage, "log", recorder)
    config = redis_config(redis_process.url)
    async with serving(config) as (app, http):
        limiter = limiter_of(app)
        assert (await http.post("/api/orders", headers=user(1))).status_code == 200
        assert limiter.storage.shared
        redis_process.stop()
        try:
            # Market data reads keep working, limited per process, with their headers.
            for _ in range(3):
                read = await http.get("/api/market", headers=user(1))
                assert read.status_code == 200
                assert read.headers["RateLimit-Limit"] == "10"
            assert limiter.storage.degraded and not limiter.storage.shared
            assert (await http.get("/health")).status_code == 200
            # Writes that move money fail closed, for every role, as problem+json.
            for who in (user(1), user(2, "admin")):
                write = await http.post("/api/orders", headers=who)
                assert write.status_code == 503
                assert write.headers["content-type"] == "application/problem+json"
                assert write.json()["type"].endswith("/rate-limit-unavailable")
                assert int(write.headers["Retry-After"]) >= 1
            # Still down after the retry delay: probing again fails the same way.
            await asyncio.sleep(config.redis_retry_seconds + 0.05)
            assert (await http.post("/api/orders", headers=user(1))).status_code == 503
        finally:
            redis_process.start()
        await asyncio.sleep(config.redis_retry_seconds + 0.05)
        recovered = await http.post("/api/orders", headers=user(1))
        assert recovered.status_code == 200
        assert limiter.storage.shared
        # Counting is shared again: Redis restarted empty, so this is its first order.
        assert recovered.headers["RateLimit-Remaining"] == "2"
    assert recorder.events == ["ratelimit.storage_degraded", "ratelimit.storage_recovered"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_redis_at_startup_degrades_instead_of_failing() -> None:
    config = redis_config(f"redis://127.0.0.1:{_closed_port()}/0", abuse_threshold=2)
    async with serving(config) as (app, http):
        write = await http.post("/api/orders", headers=user(1, Role.USER.value))
        assert write.status_code == 503
        assert limiter_of(app).storage.degraded
        for _ in range(5):
            assert (await http.get("/api/market")).status_code == 200
        limited = await http.get("/api/market")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"]
        assert (await http.get("/api/market")).status_code == 429
        # Abuse blocking still works, per process.
        assert (await http.get("/api/market")).status_code == 403
