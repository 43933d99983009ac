"""The memory backend: bounded by LRU eviction, and a hit that never enters the event loop."""

from __future__ import annotations

import pytest

from quantdesk.infra.cache import Cache, CacheCategory, CacheStatus, MemoryBackend, symbol_tag
from tests.support.cache import Compute, FakeClock

QUOTES = CacheCategory.QUOTES


async def test_the_least_recently_used_entry_is_evicted_first() -> None:
    backend = MemoryBackend(max_entries=3)
    cache = Cache(backend)
    compute = Compute()
    for symbol in ("A", "B", "C"):
        await cache.get_or_compute(QUOTES, symbol, compute, tags=[symbol_tag(QUOTES, symbol)])
    await cache.get_or_compute(QUOTES, "A", compute)  # A is now the most recently used
    await cache.get_or_compute(QUOTES, "D", compute, tags=[symbol_tag(QUOTES, "D")])
    assert len(backend) == 3
    assert (await cache.get_or_compute(QUOTES, "A", compute))[1] is CacheStatus.HIT
    # B went, and its tag went with it.
    assert await cache.invalidate_tag(symbol_tag(QUOTES, "B")) == 0
    assert await cache.invalidate_tag(symbol_tag(QUOTES, "C")) == 1
    assert (await cache.get_or_compute(QUOTES, "B", compute))[1] is CacheStatus.MISS


async def test_a_hit_completes_without_yielding_to_the_event_loop() -> None:
    cache = Cache(MemoryBackend(), clock=FakeClock())
    compute = Compute()
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", CacheStatus.MISS)
    # Driving the coroutine by hand: a hit returns on the first step, never suspending.
    hit = cache.get_or_compute(QUOTES, "AAPL", compute)
    with pytest.raises(StopIteration) as finished:
        hit.send(None)
    assert finished.value.value == ("v1", CacheStatus.HIT)


async def test_expired_entries_are_not_counted_in_stats() -> None:
    clock = FakeClock()
    cache = Cache(MemoryBackend(), clock=clock)
    compute = Compute()
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    await cache.get_or_compute(CacheCategory.FINANCIALS, "AAPL", compute)
    clock.advance(301)
    stats = await cache.stats()
    assert stats.categories["quotes"].size == 0
    assert stats.categories["financials"].size == 1
    assert stats.backend == "memory" and not stats.shared
