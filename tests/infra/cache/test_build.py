"""build_cache: the backend and the per-category TTLs the settings ask for."""

from __future__ import annotations

from typing import Any

import pytest

from quantdesk.config import ConfigError, Settings
from quantdesk.infra.cache import (
    DEFAULT_POLICIES,
    CacheCategory,
    CachePolicy,
    MemoryBackend,
    RedisBackend,
    build_cache,
)


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


@pytest.mark.parametrize(
    ("overrides", "backend"),
    [
        ({}, MemoryBackend),
        ({"redis_url": "redis://127.0.0.1:1/0"}, RedisBackend),
        ({"redis_url": "redis://127.0.0.1:1/0", "cache_backend": "memory"}, MemoryBackend),
        ({"redis_url": "redis://127.0.0.1:1/0", "cache_backend": "redis"}, RedisBackend),
    ],
)
async def test_the_backend_follows_the_settings(
    overrides: dict[str, Any], backend: type[object]
) -> None:
    cache = build_cache(settings(**overrides))
    try:
        assert isinstance(cache.backend, backend)
        assert cache.enabled
    finally:
        await cache.aclose()


def test_redis_backend_without_a_redis_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="QUANTDESK_REDIS_URL"):
        build_cache(settings(cache_backend="redis"))


def test_memory_bound_and_switch_come_from_settings() -> None:
    cache = build_cache(settings(cache_max_entries=7, cache_enabled=False))
    assert isinstance(cache.backend, MemoryBackend)
    assert cache.backend.max_entries == 7
    assert not cache.enabled


def test_ttl_overrides_replace_the_defaults_of_their_category_only() -> None:
    cache = build_cache(
        settings(
            cache_ttl_seconds={"quotes": 5, "news": 900}, cache_stale_ttl_seconds={"bars": 7200}
        )
    )
    assert cache.policies[CacheCategory.QUOTES] == CachePolicy(ttl=5, stale_ttl=300)
    # A TTL longer than the default stale window stretches the window to it.
    assert cache.policies[CacheCategory.NEWS] == CachePolicy(ttl=900, stale_ttl=900)
    assert cache.policies[CacheCategory.BARS] == CachePolicy(ttl=60, stale_ttl=7200)
    assert cache.policies[CacheCategory.FINANCIALS] == DEFAULT_POLICIES[CacheCategory.FINANCIALS]


def test_the_issue_table_is_the_default() -> None:
    expected = {
        "quotes": (30, 300),
        "bars": (60, 3600),
        "financials": (3600, 86400),
        "fund_navs": (300, 3600),
        "news": (120, 600),
        "signals": (60, 60),
        "indicators": (60, 3600),
    }
    assert {c.value: (p.ttl, p.stale_ttl) for c, p in DEFAULT_POLICIES.items()} == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cache_ttl_seconds": {"quote": 5}}, "unknown cache categories \\['quote'\\]"),
        ({"cache_stale_ttl_seconds": {"news": -1}}, "must be >= 0"),
    ],
)
def test_bad_ttl_overrides_are_refused_with_the_setting_named(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        build_cache(settings(**overrides))


def test_ttl_overrides_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUANTDESK_CACHE_TTL_SECONDS", '{"fund_navs": 60}')
    monkeypatch.setenv("QUANTDESK_CACHE_BACKEND", "memory")
    cache = build_cache(Settings(_env_file=None))
    assert cache.policies[CacheCategory.FUND_NAVS] == CachePolicy(ttl=60, stale_ttl=3600)
