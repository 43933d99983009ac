"""The in-memory and the Redis sliding-window counters give the same decisions, and the Redis
one costs one script call and constant work per request however full the window is.

Redis is real (tests/support/redis_server.py, started by the `redis_process` fixture; on CI a
missing Redis fails the run). Both limiters read the same controlled clock: no sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import pytest
import redis as sync_redis
import redis.asyncio
import uvloop
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.ratelimit import Decision, RateLimitConfig, RateLimiter, RateLimitUnavailable
from quantdesk.ratelimit.limiter import storage_key
from quantdesk.ratelimit.policies import parse_limit
from tests.support.servers import RedisProcess

pytestmark = pytest.mark.redis

LIMITS = [parse_limit(text) for text in ("3/second", "5 per 2 seconds", "4/minute", "2/hour")]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def comparable(decision: Decision) -> dict[str, Any]:
    """Everything but `shared` (which says which store answered)."""
    fields = dataclasses.asdict(decision)
    del fields["shared"]
    return fields


steps = st.lists(
    st.tuples(
        # ms since the previous request; sometimes backwards (a clock stepped back)
        st.one_of(st.integers(min_value=0, max_value=1500), st.integers(-300, 0)),
        st.integers(min_value=0, max_value=len(LIMITS) - 1),  # which limit
        st.sampled_from(["ip:192.0.2.1", "key:7"]),  # which key
    ),
    min_size=1,
    max_size=40,
)


@given(steps=steps, start=st.integers(min_value=0, max_value=3_600_000))
@settings(max_examples=60, deadline=None)
def test_memory_and_redis_give_identical_decisions(
    redis_process: RedisProcess, steps: list[tuple[int, int, str]], start: int
) -> None:
    clock = Clock(1_700_000_000 + start / 1000)
    memory = RateLimiter(RateLimitConfig(), clock=clock)
    shared = RateLimiter(
        RateLimitConfig(storage_url=redis_process.url, key_prefix=f"test:{uuid.uuid4().hex}"),
        clock=clock,
    )

    async def run() -> None:
        try:
            for delta_ms, which, key in steps:
                clock.now += delta_ms / 1000
                item = LIMITS[which]
                ours = await memory.hit(key, item, fail_closed=True)
                theirs = await shared.hit(key, item, fail_closed=True)
                assert theirs.shared and not ours.shared
                assert comparable(theirs) == comparable(ours)
        finally:
            await shared.aclose()

    asyncio.run(run())


async def command_stats(client: redis.asyncio.Redis) -> dict[str, int]:
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def test_one_script_call_and_constant_work_per_request_however_full_the_window(
    redis_process: RedisProcess,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    clock = Clock(1_700_000_040.0)  # the start of a minute window
    limiter = RateLimiter(
        RateLimitConfig(storage_url=redis_process.url, key_prefix=prefix), clock=clock
    )
    client = redis.asyncio.Redis.from_url(redis_process.url)
    item = parse_limit("100000/minute")
    key = f"{prefix}:sw:" + storage_key(item, "key:1")
    try:
        await limiter.hit("key:1", item, fail_closed=True)  # loads the script (NOSCRIPT first)
        sizes: list[int] = []
        calls: list[dict[str, int]] = []
        for _ in range(3):
            await client.config_resetstat()
            for _ in range(500):
                clock.now += 0.001
                assert (await limiter.hit("key:1", item, fail_closed=True)).allowed
            calls.append(await command_stats(client))
            sizes.append(int(await client.memory_usage(key) or 0))
        assert await client.hgetall(key) == {b"w": b"28333334", b"c": b"1501", b"p": b"0"}
    finally:
        await limiter.aclose()
        await client.aclose()
    for stats in calls:
        # One EVALSHA a request; inside it one read and one increment, whatever the window
        # holds (500, 1000 or 1500 requests): no list scans, no second script call.
        assert stats.pop("config|resetstat", 0) <= 1
        assert stats == {"evalsha": 500, "hmget": 500, "hincrby": 500}
    assert len(set(sizes)) == 1  # the key does not grow with the count


async def test_concurrent_requests_share_round_trips_but_each_is_counted_once(
    redis_process: RedisProcess,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    limiter = RateLimiter(
        RateLimitConfig(storage_url=redis_process.url, key_prefix=prefix),
        clock=Clock(1_700_000_040.0),
    )
    client = redis.asyncio.Redis.from_url(redis_process.url)
    item = parse_limit("20/minute")
    try:
        await limiter.hit("warm", item, fail_closed=True)  # loads the script
        await client.config_resetstat()
        decisions = await asyncio.gather(
            *(limiter.hit("key:2", item, fail_closed=True) for _ in range(30))
        )
        stats = await command_stats(client)
        # Redis lost its scripts (a restart, SCRIPT FLUSH): the next call loads it again.
        await client.script_flush()
        again = await asyncio.gather(
            *(limiter.hit("key:3", item, fail_closed=True) for _ in range(3))
        )
    finally:
        await limiter.aclose()
        await client.aclose()
    assert [d.allowed for d in decisions] == [True] * 20 + [False] * 10
    assert [d.remaining for d in decisions[:20]] == list(range(19, -1, -1))
    assert stats["evalsha"] == 30
    assert [d.remaining for d in again] == [19, 18, 17]


def test_the_url_database_is_used_and_uvloop_works(redis_process: RedisProcess) -> None:
    """The pipelined connection selects the URL's database, and runs on uvloop (what uvicorn
    uses), whose transports are not asyncio's."""
    prefix = f"test:{uuid.uuid4().hex}"
    url = redis_process.url.rsplit("/", 1)[0] + "/3"
    item = parse_limit("2/minute")

    async def run() -> list[Decision]:
        limiter = RateLimiter(RateLimitConfig(storage_url=url, key_prefix=prefix))
        try:
            return list(
                await asyncio.gather(
                    *(limiter.hit("ip:1", item, fail_closed=True) for _ in range(3))
                )
            )
        finally:
            await limiter.aclose()

    decisions = uvloop.run(run())
    assert [(d.allowed, d.shared) for d in decisions] == [(True, True)] * 2 + [(False, True)]
    client = sync_redis.Redis.from_url(url)
    try:
        assert client.exists(f"{prefix}:sw:" + storage_key(item, "ip:1")) == 1
    finally:
        client.close()


async def test_a_redis_that_stops_answering_degrades_to_memory_instead_of_hanging() -> None:
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):  # accepts every command, answers none
            pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = RateLimitConfig(
        storage_url=f"redis://127.0.0.1:{port}/0",
        key_prefix=f"test:{uuid.uuid4().hex}",
        redis_timeout_seconds=0.1,
    )
    limiter = RateLimiter(config)
    item = parse_limit("2/minute")
    try:
        # The bound only keeps a regression from hanging the suite; the watchdog answers first.
        async with asyncio.timeout(10):
            decisions = await asyncio.gather(
                *(limiter.hit("ip:9", item, fail_closed=False) for _ in range(3))
            )
            with pytest.raises(RateLimitUnavailable):
                await limiter.hit("ip:9", item, fail_closed=True)
    finally:
        await limiter.aclose()
        server.close()
    assert [(d.allowed, d.shared) for d in decisions] == [(True, False)] * 2 + [(False, False)]
    assert limiter.storage.degraded
