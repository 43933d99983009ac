"""The state store's atomic primitives, on process memory and on a real Redis; two Redis
stores share state; a dead Redis degrades to per-process state instead of failing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from quantdesk.infra import redis_state
from quantdesk.infra.redis_state import RedisStateStore
from quantdesk.infra.state import MemoryStateStore, StateStore, state_store_from_settings
from quantdesk.marketdata.providers.breaker import BreakerSettings, BreakerState, CircuitBreaker
from quantdesk.marketdata.providers.resilience import Budget, RequestBudget
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings


def prefix() -> str:
    # A fresh namespace per test: the session's Redis is shared by every test.
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    if request.param == "memory":
        yield MemoryStateStore()
        return
    redis: RedisProcess = request.getfixturevalue("redis_process")
    shared = RedisStateStore(redis.url, key_prefix=prefix())
    yield shared
    await shared.aclose()


async def test_incr_counts_and_expires(store: StateStore) -> None:
    assert [await store.incr("n", ttl_seconds=0.1) for _ in range(3)] == [1, 2, 3]
    await asyncio.sleep(0.12)
    assert await store.incr("n", ttl_seconds=0.1) == 1


async def test_hashes_merge_fields_and_delete(store: StateStore) -> None:
    await store.set_hash("h", {"state": "open", "failures": "3"}, ttl_seconds=10)
    await store.set_hash("h", {"failures": "4"})
    assert await store.get_hash("h") == {"state": "open", "failures": "4"}
    await store.delete("h")
    assert await store.get_hash("h") == {}


async def test_reserve_spaces_bookings_and_refuses_beyond_the_max_wait(store: StateStore) -> None:
    waits = [
        await store.reserve("r", interval_seconds=0.1, max_wait_seconds=0.25) for _ in range(4)
    ]
    assert waits[0] == pytest.approx(0.0, abs=0.01)
    assert waits[1] == pytest.approx(0.1, abs=0.02) and waits[2] == pytest.approx(0.2, abs=0.02)
    assert waits[3] is None  # 0.3 s away: nothing booked


async def test_leases_are_limited_released_and_expire(store: StateStore) -> None:
    assert await store.acquire_lease("l", "a", limit=2, ttl_seconds=10)
    assert await store.acquire_lease("l", "b", limit=2, ttl_seconds=0.1)
    assert not await store.acquire_lease("l", "c", limit=2, ttl_seconds=10)
    await store.release_lease("l", "a")
    assert await store.acquire_lease("l", "c", limit=2, ttl_seconds=10)
    await asyncio.sleep(0.12)  # b's lease ran out (its holder died)
    assert await store.acquire_lease("l", "d", limit=2, ttl_seconds=10)


@pytest.fixture
async def two_stores(
    redis_process: RedisProcess,
) -> AsyncIterator[tuple[RedisStateStore, RedisStateStore]]:
    namespace = prefix()
    first = RedisStateStore(redis_process.url, key_prefix=namespace)
    second = RedisStateStore(redis_process.url, key_prefix=namespace)
    yield first, second
    await first.aclose()
    await second.aclose()


@pytest.mark.redis
async def test_a_breaker_tripped_by_one_process_is_open_for_another(
    two_stores: tuple[RedisStateStore, RedisStateStore],
) -> None:
    first, second = two_stores
    settings = BreakerSettings(failure_threshold=2, recovery_seconds=30)
    here = CircuitBreaker(first, "ccxt:binance", settings)
    there = CircuitBreaker(second, "ccxt:binance", settings)
    await here.record_failure()
    await there.record_failure()  # the failures add up across processes
    assert (await here.snapshot()).state is BreakerState.OPEN
    assert not await there.allow()
    await there.record_success()
    assert await here.allow()


@pytest.mark.redis
async def test_a_half_open_breaker_admits_one_probe_across_processes(
    two_stores: tuple[RedisStateStore, RedisStateStore],
) -> None:
    now = [1_000.0]
    settings = BreakerSettings(failure_threshold=1, recovery_seconds=30)
    here = CircuitBreaker(two_stores[0], "fred", settings, clock=lambda: now[0])
    there = CircuitBreaker(two_stores[1], "fred", settings, clock=lambda: now[0])
    await here.record_failure()
    now[0] += 30
    assert [await here.allow(), await there.allow()] == [True, False]


@pytest.mark.redis
async def test_the_request_budget_is_shared(
    two_stores: tuple[RedisStateStore, RedisStateStore],
) -> None:
    budget = Budget(concurrency=1, rate_per_second=0, max_wait_seconds=0.1)
    here = RequestBudget(two_stores[0], "polygon", budget, lease_ttl_seconds=5)
    there = RequestBudget(two_stores[1], "polygon", budget, lease_ttl_seconds=5)
    async with here.slot():
        with pytest.raises(Exception, match="concurrent request slots"):
            async with there.slot():
                pass
    async with there.slot():
        pass


class RecordingLog:
    def __init__(self) -> None:
        self.events: list[str] = []

    def warning(self, event: str, **_: Any) -> None:
        self.events.append(event)


@pytest.mark.redis
async def test_a_dead_redis_degrades_to_process_state_and_recovers(
    redis_process: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = RecordingLog()
    monkeypatch.setattr(redis_state, "log", log)
    store = RedisStateStore(
        redis_process.url, key_prefix=prefix(), retry_seconds=0.1, timeout_seconds=0.2
    )
    breaker = CircuitBreaker(store, "ecb", BreakerSettings(failure_threshold=1))
    try:
        assert store.shared
        redis_process.stop()
        try:
            assert await breaker.record_failure() is BreakerState.OPEN  # no exception
            assert not await breaker.allow()  # the per-process fallback remembers
            assert not store.shared
            assert log.events == ["state_store.degraded"]
        finally:
            redis_process.start()
        await asyncio.sleep(0.12)
        assert await store.incr("after", ttl_seconds=10) == 1
        assert store.shared and log.events[-1] == "state_store.recovered"
    finally:
        await store.aclose()


async def test_redis_is_chosen_by_settings_alone() -> None:
    assert isinstance(
        state_store_from_settings(make_settings("sqlite+aiosqlite:///x.db")), MemoryStateStore
    )
    chosen = state_store_from_settings(
        make_settings("sqlite+aiosqlite:///x.db", redis_url="redis://127.0.0.1:1/0")
    )
    assert isinstance(chosen, RedisStateStore)
    await chosen.aclose()
