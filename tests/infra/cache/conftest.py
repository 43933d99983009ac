"""Cache fixtures: a fake clock, a counting compute function, and caches on either backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from quantdesk.infra.cache import Cache, MemoryBackend, RedisBackend
from tests.support.cache import CacheMaker
from tests.support.servers import RedisProcess


def redis_backend(url: str, prefix: str, **options: Any) -> RedisBackend:
    return RedisBackend(url, prefix=prefix, **options)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_cache(request: pytest.FixtureRequest) -> AsyncIterator[CacheMaker]:
    """Builds caches on one backend kind; on Redis every cache of a test shares one fresh
    key prefix (like several processes of one deployment)."""
    url: str | None = None
    if request.param == "redis":
        redis_process: RedisProcess = request.getfixturevalue("redis_process")
        url = redis_process.url
    prefix = f"test:{uuid.uuid4().hex}"
    made: list[Cache] = []

    def make(*, max_entries: int = 1000, backend_options: Any = None, **options: Any) -> Cache:
        backend = (
            redis_backend(url, prefix, **(backend_options or {}))
            if url
            else MemoryBackend(max_entries)
        )
        cache = Cache(backend, **options)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.aclose()
