"""Cache behaviour, the same on the memory and the Redis backend: TTL, stale-while-revalidate,
expiry, single-flight, errors, tags and statistics."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from quantdesk.infra.cache import (
    CacheCategory,
    CacheStatus,
    category_tag,
    new_bars_tags,
    symbol_tag,
)
from quantdesk.infra.cache import cache as cache_module
from tests.support.cache import CacheMaker, Compute, FakeClock

QUOTES, SIGNALS = CacheCategory.QUOTES, CacheCategory.SIGNALS
HIT, MISS, STALE = CacheStatus.HIT, CacheStatus.MISS, CacheStatus.STALE


async def test_a_value_is_a_hit_until_its_ttl_ends(make_cache: CacheMaker) -> None:
    clock = FakeClock()
    cache = make_cache(clock=clock)
    compute = Compute()
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", MISS)
    clock.advance(29.9)
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", HIT)
    assert compute.calls == 1
    # Other keys and categories are separate entries.
    assert await cache.get_or_compute(QUOTES, "MSFT", compute) == ("v2", MISS)
    assert await cache.get_or_compute(CacheCategory.NEWS, "AAPL", compute) == ("v3", MISS)


async def test_a_stale_value_is_served_at_once_and_refreshed_once_in_the_background(
    make_cache: CacheMaker,
) -> None:
    clock = FakeClock()
    cache = make_cache(clock=clock)
    compute = Compute(delay=0.05)
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    clock.advance(31)  # past the 30 s TTL, inside the 300 s stale window
    answers = await asyncio.gather(
        *(cache.get_or_compute(QUOTES, "AAPL", compute) for _ in range(50))
    )
    assert set(answers) == {("v1", STALE)}
    await cache.wait_background()
    assert compute.calls == 2
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v2", HIT)
    # The refreshed value has a full TTL of its own.
    clock.advance(29)
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v2", HIT)


async def test_a_value_past_its_stale_ttl_is_recomputed(make_cache: CacheMaker) -> None:
    clock = FakeClock()
    cache = make_cache(clock=clock)
    compute = Compute()
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    clock.advance(300)
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v2", MISS)
    assert compute.calls == 2


async def test_signals_are_never_served_stale(make_cache: CacheMaker) -> None:
    clock = FakeClock()
    cache = make_cache(clock=clock)
    compute = Compute()
    await cache.get_or_compute(SIGNALS, "AAPL", compute)
    clock.advance(59)
    assert await cache.get_or_compute(SIGNALS, "AAPL", compute) == ("v1", HIT)
    clock.advance(1)
    assert await cache.get_or_compute(SIGNALS, "AAPL", compute) == ("v2", MISS)


async def test_a_thousand_concurrent_cold_callers_cause_one_compute(
    make_cache: CacheMaker,
) -> None:
    cache = make_cache()
    compute = Compute(delay=0.05)
    answers = await asyncio.gather(
        *(cache.get_or_compute(QUOTES, "AAPL", compute) for _ in range(1000))
    )
    assert compute.calls == 1
    assert set(answers) == {("v1", MISS)}
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", HIT)


async def test_a_failed_compute_reaches_every_waiter_and_is_not_stored(
    make_cache: CacheMaker,
) -> None:
    cache = make_cache()
    compute = Compute(delay=0.02)
    compute.failures.append(RuntimeError("provider down"))
    answers = await asyncio.gather(
        *(cache.get_or_compute(QUOTES, "AAPL", compute) for _ in range(20)),
        return_exceptions=True,
    )
    assert compute.calls == 1
    assert all(isinstance(a, RuntimeError) and str(a) == "provider down" for a in answers)
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v2", MISS)


async def test_a_cancelled_caller_does_not_cancel_the_shared_compute(
    make_cache: CacheMaker,
) -> None:
    cache = make_cache()
    compute = Compute(delay=0.1)
    first = asyncio.create_task(cache.get_or_compute(QUOTES, "AAPL", compute))
    second = asyncio.create_task(cache.get_or_compute(QUOTES, "AAPL", compute))
    await asyncio.sleep(0.02)
    first.cancel()
    assert await second == ("v1", MISS)
    assert first.cancelled()
    assert compute.calls == 1
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", HIT)


async def test_new_bars_invalidate_that_symbols_quotes_indicators_signals_and_bars(
    make_cache: CacheMaker,
) -> None:
    cache = make_cache()
    compute = Compute()
    entries = [(category, symbol) for category in CacheCategory for symbol in ("AAPL", "MSFT")]
    for category, symbol in entries:
        await cache.get_or_compute(category, symbol, compute, tags=[symbol_tag(category, symbol)])
    dropped = await cache.invalidate_tags(new_bars_tags("aapl"))
    assert dropped == 4
    statuses = {
        (category, symbol): (await cache.get_or_compute(category, symbol, compute))[1]
        for category, symbol in entries
    }
    invalidated = {
        (category, "AAPL")
        for category in (
            CacheCategory.BARS,
            CacheCategory.QUOTES,
            CacheCategory.INDICATORS,
            CacheCategory.SIGNALS,
        )
    }
    assert {entry for entry, status in statuses.items() if status is MISS} == invalidated
    assert await cache.invalidate_tag("quotes:UNKNOWN") == 0


async def test_a_category_tag_flushes_the_whole_category(make_cache: CacheMaker) -> None:
    cache = make_cache()
    compute = Compute()
    for symbol in ("AAPL", "MSFT", "GOOG"):
        await cache.get_or_compute(QUOTES, symbol, compute)
    await cache.get_or_compute(CacheCategory.NEWS, "AAPL", compute)
    assert await cache.invalidate_tag(category_tag(QUOTES)) == 3
    assert (await cache.get_or_compute(QUOTES, "MSFT", compute))[1] is MISS
    assert (await cache.get_or_compute(CacheCategory.NEWS, "AAPL", compute))[1] is HIT


async def test_stats_count_hits_misses_stale_and_live_entries(make_cache: CacheMaker) -> None:
    clock = FakeClock()
    cache = make_cache(clock=clock)
    compute = Compute()
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    await cache.get_or_compute(QUOTES, "MSFT", compute)
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    clock.advance(31)
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    await cache.wait_background()
    stats = await cache.stats()
    quotes = stats.categories["quotes"]
    assert (quotes.hits, quotes.misses, quotes.stale, quotes.size) == (1, 2, 1, 2)
    assert (quotes.ttl_seconds, quotes.stale_ttl_seconds) == (30, 300)
    assert stats.categories["news"].size == 0
    assert set(stats.categories) == {category.value for category in CacheCategory}
    assert stats.enabled and not stats.degraded


async def test_a_failed_refresh_keeps_the_stale_value_and_is_retried_later(
    make_cache: CacheMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(cache_module.log, "warning", lambda event, **_: warnings.append(str(event)))
    clock = FakeClock()
    cache = make_cache(clock=clock, refresh_backoff=0)
    compute = Compute()
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    clock.advance(31)
    compute.failures.append(RuntimeError("provider down"))
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", STALE)
    await cache.wait_background()
    assert warnings == ["cache.refresh_failed"]
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", STALE)
    await cache.wait_background()
    assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v3", HIT)


async def test_a_failed_refresh_is_not_retried_before_the_backoff(
    make_cache: CacheMaker,
) -> None:
    clock = FakeClock()
    cache = make_cache(clock=clock, refresh_backoff=60)
    compute = Compute()
    await cache.get_or_compute(QUOTES, "AAPL", compute)
    clock.advance(31)
    compute.failures.append(RuntimeError("provider down"))
    for _ in range(5):
        assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", STALE)
        await cache.wait_background()
    assert compute.calls == 2


async def test_a_disabled_cache_computes_every_time(make_cache: CacheMaker) -> None:
    cache = make_cache(enabled=False)
    compute = Compute()
    for call in range(1, 4):
        assert await cache.get_or_compute(QUOTES, "AAPL", compute) == (f"v{call}", MISS)


async def test_lookups_are_counted_in_cache_operations_total(make_cache: CacheMaker) -> None:
    def count(result: str) -> float:
        value = REGISTRY.get_sample_value(
            "cache_operations_total", {"category": "news", "result": result}
        )
        return value or 0.0

    before = {result: count(result) for result in ("hit", "miss", "stale")}
    clock = FakeClock()
    cache = make_cache(clock=clock)
    compute = Compute()
    for _ in range(3):
        await cache.get_or_compute(CacheCategory.NEWS, "AAPL", compute)
    clock.advance(121)
    await cache.get_or_compute(CacheCategory.NEWS, "AAPL", compute)
    await cache.wait_background()
    after = {result: count(result) - before[result] for result in before}
    assert after == {"hit": 2, "miss": 1, "stale": 1}
