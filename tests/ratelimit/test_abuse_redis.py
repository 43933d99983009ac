"""Abuse blocks on Redis: listed and lifted across processes (limiters sharing one Redis)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from quantdesk.ratelimit import RateLimiter
from tests.support.ratelimit import small_config
from tests.support.servers import RedisProcess

pytestmark = pytest.mark.redis


async def test_a_block_lifted_by_one_process_is_lifted_in_the_others(
    redis_process: RedisProcess,
) -> None:
    config = small_config(
        storage_url=redis_process.url,
        key_prefix=f"test:{uuid.uuid4().hex}",
        abuse_threshold=2,
        abuse_recheck_seconds=0.2,
    )
    first, second, operator = RateLimiter(config), RateLimiter(config), RateLimiter(config)
    try:
        for _ in range(2):
            await first.abuse.record_violation("192.0.2.10")
        await second.abuse.record_violation("2001:db8::1")
        await second.abuse.record_violation("2001:db8::1")
        assert await second.abuse.check("192.0.2.10") is not None
        # Listed from the shared store, whichever process made the block.
        listed = await operator.abuse.blocks()
        assert sorted(block.ip for block in listed) == ["192.0.2.10", "2001:db8::1"]
        assert all(1 <= block.retry_after() <= config.abuse_block_seconds for block in listed)
        # Lifted by another process (the CLI, another worker): every process sees it soon.
        assert await operator.abuse.unblock("192.0.2.10")
        assert not await operator.abuse.unblock("192.0.2.10")
        await asyncio.sleep(0.25)
        assert await first.abuse.check("192.0.2.10") is None
        assert await second.abuse.check("192.0.2.10") is None
        assert await second.abuse.check("2001:db8::1") is not None
        assert [block.ip for block in await first.abuse.blocks()] == ["2001:db8::1"]
    finally:
        for limiter in (first, second, operator):
            await limiter.aclose()
