"""`Cache.get_or_compute`: per-category TTLs, stale-while-revalidate and single-flight.

    value, status = await cache.get_or_compute(
        CacheCategory.QUOTES, symbol, fetch_quote, tags=[symbol_tag(CacheCategory.QUOTES, symbol)]
    )

* Fresh value: returned as HIT. In memory mode that is a dict lookup and a clock read; the
  event loop is never entered.
* Stale value: returned at once as STALE, and one background refresh per key replaces it (in
  Redis mode one per cluster: the refresh takes the key's fill lock or leaves it to whoever
  holds it). A failed refresh is logged and retried no sooner than `refresh_backoff` later.
* Missing value: computed once however many callers ask at the same time. Within a process
  the callers share one task; across processes (Redis) the first to take a short lock
  computes and the others poll for its result. A caller that is cancelled does not cancel
  the computation the others wait for. An exception from `compute` reaches every caller
  that waited for it and nothing is stored.

`compute` runs in its own task, may serve other requests than the one that started it and
(refreshes) may outlive that request: it must not use request-scoped resources such as the
request's DB session; open a unit of work inside it (`db.session()`).

Values are shared, not copied: treat them as immutable. In Redis mode they round-trip through
orjson, so cache JSON-shaped data (e.g. `model.model_dump(mode="json")`) to get the same value
in both modes.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from quantdesk.config import ConfigError, Settings
from quantdesk.infra.cache.backend import CacheBackend, Entry
from quantdesk.infra.cache.categories import (
    DEFAULT_POLICIES,
    CacheCategory,
    CachePolicy,
    category_tag,
    policies_from_settings,
)
from quantdesk.infra.cache.memory import MemoryBackend
from quantdesk.infra.cache.redis_backend import RedisBackend
from quantdesk.observability.logging import get_logger
from quantdesk.observability.metrics import CACHE_OPERATIONS

log = get_logger("quantdesk.cache")
T = TypeVar("T")


class CacheStatus(StrEnum):
    HIT = "hit"
    MISS = "miss"
    STALE = "stale"


_ORDER = (CacheStatus.HIT, CacheStatus.MISS, CacheStatus.STALE)
_HIT, _MISS, _STALE = 0, 1, 2
_INDEX = {status: index for index, status in enumerate(_ORDER)}


@dataclass(frozen=True, slots=True)
class CategoryStats:
    ttl_seconds: float
    stale_ttl_seconds: float
    hits: int
    misses: int
    stale: int
    size: int | None


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counts are this process's since it started; sizes are the backend's (shared in Redis)."""

    backend: str
    enabled: bool
    shared: bool
    degraded: bool
    categories: dict[str, CategoryStats]


class Cache:
    def __init__(
        self,
        backend: CacheBackend,
        *,
        policies: Mapping[CacheCategory, CachePolicy] = DEFAULT_POLICIES,
        enabled: bool = True,
        clock: Callable[[], float] | None = None,
        lock_seconds: float = 10.0,
        poll_seconds: float = 0.02,
        refresh_backoff: float = 5.0,
    ) -> None:
        self.backend = backend
        self.policies = dict(policies)
        self.enabled = enabled
        # Shared entries are judged by several hosts: wall time. One process: monotonic.
        self.clock = clock or (time.time if backend.shared else time.monotonic)
        # Longer than a provider call may take; a holder that died frees the key after it.
        self.lock_seconds = lock_seconds
        self.poll_seconds = poll_seconds
        self.refresh_backoff = refresh_backoff
        self._memory = backend if isinstance(backend, MemoryBackend) else None
        self._inflight: dict[str, asyncio.Future[tuple[Any, CacheStatus]]] = {}
        self._refreshing: set[str] = set()
        self._background: set[asyncio.Task[bool]] = set()
        self._counts = {category: [0, 0, 0] for category in self.policies}
        self._operations = {
            category: tuple(CACHE_OPERATIONS.labels(category.value, s.value) for s in _ORDER)
            for category in self.policies
        }

    async def get_or_compute(
        self,
        category: CacheCategory,
        key: str,
        compute: Callable[[], Awaitable[T]],
        *,
        tags: Iterable[str] = (),
    ) -> tuple[T, CacheStatus]:
        if not self.enabled:
            return await compute(), CacheStatus.MISS
        full_key = f"{category.value}:{key}"
        memory = self._memory
        if memory is not None:
            entry = memory.peek(full_key)
            if entry is not None:
                now = self.clock()
                if now < entry.fresh_until:
                    self._count(category, _HIT)
                    return entry.value, CacheStatus.HIT
                if now < entry.stale_until:
                    self._count(category, _STALE)
                    self._revalidate(category, full_key, compute, tags)
                    return entry.value, CacheStatus.STALE
        pending = self._inflight.get(full_key)
        if pending is None:
            pending = asyncio.ensure_future(self._resolve(category, full_key, compute, tuple(tags)))
            self._inflight[full_key] = pending
            pending.add_done_callback(functools.partial(self._settled, full_key))
        value, status = await asyncio.shield(pending)
        self._count(category, _INDEX[status])
        return value, status

    async def invalidate_tag(self, tag: str) -> int:
        """Drop every entry carrying `tag` (in Redis mode: in every process); how many."""
        dropped = await self.backend.invalidate_tag(tag)
        log.debug("cache.invalidated", tag=tag, entries=dropped)
        return dropped

    async def invalidate_tags(self, tags: Iterable[str]) -> int:
        return sum([await self.invalidate_tag(tag) for tag in tags])

    async def clear(self) -> None:
        await self.backend.clear()

    async def stats(self) -> CacheStats:
        now = self.clock()
        categories: dict[str, CategoryStats] = {}
        for category, policy in self.policies.items():
            hits, misses, stale = self._counts[category]
            categories[category.value] = CategoryStats(
                ttl_seconds=policy.ttl,
                stale_ttl_seconds=policy.stale_ttl,
                hits=hits,
                misses=misses,
                stale=stale,
                size=await self.backend.size(category.value, now),
            )
        return CacheStats(
            backend=self.backend.name,
            enabled=self.enabled,
            shared=self.backend.shared,
            degraded=self.backend.degraded,
            categories=categories,
        )

    async def wait_background(self) -> None:
        """Wait for the background refreshes running now (graceful shutdown, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
            await asyncio.sleep(0)  # let their done-callbacks run

    async def aclose(self) -> None:
        running: list[asyncio.Future[Any]] = [*self._background, *self._inflight.values()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.backend.aclose()

    # ----------------------------------------------------------------- internals

    def _count(self, category: CacheCategory, index: int) -> None:
        self._counts[category][index] += 1
        self._operations[category][index].inc()

    def _settled(self, key: str, future: asyncio.Future[tuple[Any, CacheStatus]]) -> None:
        if self._inflight.get(key) is future:
            del self._inflight[key]
        if not future.cancelled():
            # Every waiter may have been cancelled; nobody else would read the error.
            future.exception()

    async def _resolve(
        self,
        category: CacheCategory,
        full_key: str,
        compute: Callable[[], Awaitable[Any]],
        tags: tuple[str, ...],
    ) -> tuple[Any, CacheStatus]:
        if self._memory is None:
            entry = await self.backend.get(full_key)
            if entry is not None:
                now = self.clock()
                if now < entry.fresh_until:
                    return entry.value, CacheStatus.HIT
                if now < entry.stale_until:
                    self._revalidate(category, full_key, compute, tags)
                    return entry.value, CacheStatus.STALE
        _, value = await self._fill(category, full_key, compute, tags, wait=True)
        return value, CacheStatus.MISS

    async def _fill(
        self,
        category: CacheCategory,
        full_key: str,
        compute: Callable[[], Awaitable[Any]],
        tags: tuple[str, ...],
        *,
        wait: bool,
    ) -> tuple[bool, Any]:
        """(True, value) once the value is known; (False, None) when not waiting for a
        fill another process is running."""
        while True:
            token = await self.backend.acquire(full_key, self.lock_seconds)
            if token is not None:
                try:
                    if self.backend.shared:
                        # Filled by another process between our lookup and the lock?
                        done = await self.backend.get(full_key)
                        if done is not None and self.clock() < done.fresh_until:
                            return True, done.value
                    value = await compute()
                    await self._store(category, full_key, value, tags)
                    return True, value
                finally:
                    await self.backend.release(full_key, token)
            if not wait:
                return False, None
            # Another process is computing it: poll until its value lands or its lock goes.
            await asyncio.sleep(self.poll_seconds)
            done = await self.backend.get(full_key)
            if done is not None and self.clock() < done.fresh_until:
                return True, done.value

    async def _store(
        self, category: CacheCategory, full_key: str, value: Any, tags: tuple[str, ...]
    ) -> None:
        policy = self.policies[category]
        if policy.stale_ttl <= 0:
            return
        now = self.clock()
        entry = Entry(value, now + policy.ttl, now + policy.stale_ttl, category.value)
        await self.backend.set(
            full_key, entry, tags=(*tags, category_tag(category)), lifetime=policy.stale_ttl
        )

    def _revalidate(
        self,
        category: CacheCategory,
        full_key: str,
        compute: Callable[[], Awaitable[Any]],
        tags: Iterable[str],
    ) -> None:
        if full_key in self._refreshing:
            return
        self._refreshing.add(full_key)
        task = asyncio.ensure_future(self._refresh(category, full_key, compute, tuple(tags)))
        self._background.add(task)
        task.add_done_callback(functools.partial(self._refreshed, full_key))

    async def _refresh(
        self,
        category: CacheCategory,
        full_key: str,
        compute: Callable[[], Awaitable[Any]],
        tags: tuple[str, ...],
    ) -> bool:
        try:
            await self._fill(category, full_key, compute, tags, wait=False)
        except Exception as exc:  # the stale value keeps being served; the caller is gone
            log.warning(
                "cache.refresh_failed",
                category=category.value,
                key=full_key,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
            return False
        return True

    def _refreshed(self, key: str, task: asyncio.Task[bool]) -> None:
        self._background.discard(task)
        if task.cancelled() or task.result() or self.refresh_backoff <= 0:
            self._refreshing.discard(key)
        else:
            asyncio.get_running_loop().call_later(
                self.refresh_backoff, self._refreshing.discard, key
            )


def build_cache(settings: Settings, *, clock: Callable[[], float] | None = None) -> Cache:
    """The cache these settings ask for (close it with `aclose()` at shutdown)."""
    policies = policies_from_settings(settings)
    kind = settings.cache_backend or ("redis" if settings.redis_url else "memory")
    backend: CacheBackend
    if kind == "redis":
        if not settings.redis_url:
            raise ConfigError("QUANTDESK_CACHE_BACKEND=redis needs QUANTDESK_REDIS_URL")
        longest = max(policy.stale_ttl for policy in policies.values())
        backend = RedisBackend(settings.redis_url, tag_seconds=longest)
    else:
        backend = MemoryBackend(settings.cache_max_entries)
    return Cache(backend, policies=policies, enabled=settings.cache_enabled, clock=clock)


# The serving app's cache, for code that runs outside a request but inside the app's process
# (in-process jobs storing new bars must drop the cached copies requests read). Like the job
# runner (quantdesk.jobs.runner.install_runner), installed by the app's lifespan.
_installed: Cache | None = None


def install_cache(cache: Cache | None) -> None:
    global _installed
    _installed = cache


def installed_cache() -> Cache | None:
    return _installed
