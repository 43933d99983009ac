"""Redis backend: entries shared by every process and replica (distributed mode).

Keys (under `prefix`): `e:<category>:<key>` holds orjson `[fresh_until, stale_until, value]`
with a PX expiry at `stale_until`; `t:<tag>` is the set of entry keys carrying a tag;
`l:<category>:<key>` is the short fill lock (SET NX PX) that makes a cold key computed once
across processes. Needs a standalone Redis (the invalidation script touches keys it reads
from a set, which Redis Cluster does not allow).

A Redis error never reaches the caller: the operation answers like a miss (or a no-op), the
backend is marked degraded with one log line, and Redis is left alone for `retry_seconds`;
then the next operation probes it and the first success ends the outage. Tag invalidations
asked for during an outage are replayed on recovery, so entries that survived a network
partition are not served afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import orjson
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from quantdesk.infra.cache.backend import Entry
from quantdesk.kit.outage import Outage
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.cache")
T = TypeVar("T")

REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)
# While Redis is down the lock cannot be taken; the caller computes (single per process).
DEGRADED_LOCK = "degraded"
_SCAN_BATCH = 1000
# Admin-only walks over the keyspace (stats sizes, flush) may take longer than one command.
_SCAN_TIMEOUT = 30.0

# SMEMBERS + DEL in one step, so an entry tagged meanwhile cannot lose its tag membership.
_INVALIDATE_TAG = """
local members = redis.call('SMEMBERS', KEYS[1])
local dropped = 0
for i = 1, #members, 500 do
  dropped = dropped + redis.call('DEL', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('DEL', KEYS[1])
return dropped
"""
# Release only our own lock (it may have expired and been taken by another process).
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBackend:
    name = "redis"
    shared = True

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "quantdesk:cache",
        tag_seconds: float = 86_400.0,
        retry_seconds: float = 5.0,
        timeout_seconds: float = 0.5,
        max_pending_invalidations: int = 10_000,
    ) -> None:
        self.prefix = prefix
        self.tag_seconds = max(1, int(tag_seconds))
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        self.max_pending_invalidations = max_pending_invalidations
        self.errors = 0
        # Short timeouts and one retry: a dead Redis costs one refused connection per
        # operation, not redis-py's default retries with backoff.
        self._pool = redis.asyncio.ConnectionPool.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 1),
        )
        self._redis = redis.asyncio.Redis(connection_pool=self._pool)
        self._invalidate_script = self._redis.register_script(_INVALIDATE_TAG)
        self._release_script = self._redis.register_script(_RELEASE_LOCK)
        self._outage = Outage(retry_seconds=retry_seconds)
        self._pending_tags: set[str] = set()
        self._pending_overflow = False

    @property
    def degraded(self) -> bool:
        return self._outage.degraded

    def _entry_key(self, key: str) -> str:
        return f"{self.prefix}:e:{key}"

    def _tag_key(self, tag: str) -> str:
        return f"{self.prefix}:t:{tag}"

    def _lock_key(self, key: str) -> str:
        return f"{self.prefix}:l:{key}"

    async def get(self, key: str) -> Entry | None:
        raw = await self._run(lambda r: r.get(self._entry_key(key)), None)
        if raw is None:
            return None
        try:
            fresh_until, stale_until, value = orjson.loads(raw)
            return Entry(value, float(fresh_until), float(stale_until))
        except (orjson.JSONDecodeError, TypeError, ValueError):
            log.warning("cache.undecodable_entry", key=key)
            return None

    async def set(self, key: str, entry: Entry, *, tags: Sequence[str], lifetime: float) -> None:
        try:
            payload = orjson.dumps(
                [entry.fresh_until, entry.stale_until, entry.value],
                option=orjson.OPT_SERIALIZE_NUMPY,
            )
        except TypeError as exc:
            # A programming error, but one that only shows in Redis mode: keep answering.
            log.error("cache.unserializable_value", key=key, error=str(exc))
            return
        milliseconds = max(1, int(lifetime * 1000))
        entry_key = self._entry_key(key)

        async def write(client: redis.asyncio.Redis) -> None:
            pipe = client.pipeline(transaction=False)
            pipe.set(entry_key, payload, px=milliseconds)
            for tag in tags:
                tag_key = self._tag_key(tag)
                pipe.sadd(tag_key, entry_key)
                # Refreshed on every write, so a set outlives the entries it lists.
                pipe.expire(tag_key, self.tag_seconds)
            await pipe.execute()

        await self._run(write, None)

    async def acquire(self, key: str, seconds: float) -> str | None:
        token = secrets.token_hex(8)
        lock_key = self._lock_key(key)

        async def take(client: redis.asyncio.Redis) -> str | None:
            taken = await client.set(lock_key, token, nx=True, px=max(1, int(seconds * 1000)))
            return token if taken else None

        # Unreachable Redis: nobody can hold the lock; compute here (single per process).
        return await self._run(take, DEGRADED_LOCK)

    async def release(self, key: str, token: str) -> None:
        if token == DEGRADED_LOCK:
            return
        await self._run(lambda r: self._release_script(keys=[self._lock_key(key)], args=[token]), 0)

    async def invalidate_tag(self, tag: str) -> int:
        dropped = await self._run(
            lambda r: self._invalidate_script(keys=[self._tag_key(tag)]), None
        )
        if dropped is None:
            self._remember_invalidation(tag)
            return 0
        return int(dropped)

    async def size(self, category: str, now: float) -> int | None:
        async def count(client: redis.asyncio.Redis) -> int:
            found = 0
            async for _ in client.scan_iter(
                match=self._entry_key(f"{category}:*"), count=_SCAN_BATCH
            ):
                found += 1
            return found

        return await self._run(count, None, seconds=_SCAN_TIMEOUT)

    async def clear(self) -> None:
        if await self._run(self._drop_all, False, seconds=_SCAN_TIMEOUT) is False:
            self._pending_overflow = True

    async def _drop_all(self, client: redis.asyncio.Redis) -> bool:
        batch: list[Any] = []
        async for key in client.scan_iter(match=f"{self.prefix}:*", count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                await client.unlink(*batch)
                batch.clear()
        if batch:
            await client.unlink(*batch)
        return True

    async def aclose(self) -> None:
        await self._redis.aclose()
        await self._pool.aclose()

    # ----------------------------------------------------------------- outage handling

    async def _run(
        self,
        op: Callable[[redis.asyncio.Redis], Awaitable[T]],
        fallback: T,
        *,
        seconds: float | None = None,
    ) -> T:
        outage = self._outage
        if outage.degraded:
            if outage.wait_before_probe():
                return fallback
            outage.probing = True
            try:
                recovered = await self._probe()
            finally:
                outage.probing = False
            if not recovered:
                return fallback
        try:
            async with asyncio.timeout(seconds or self.timeout_seconds * 4):
                return await op(self._redis)
        except REDIS_ERRORS as exc:
            self._mark_degraded(exc)
            return fallback

    async def _probe(self) -> bool:
        """Ping, then replay the invalidations the outage held back, before any read can
        return an entry they should have removed."""
        try:
            async with asyncio.timeout(self.timeout_seconds * 4):
                await self._redis.ping()
            async with asyncio.timeout(_SCAN_TIMEOUT):
                if self._pending_overflow:
                    await self._drop_all(self._redis)
                    self._pending_overflow = False
                    self._pending_tags.clear()
                for tag in list(self._pending_tags):
                    await self._invalidate_script(keys=[self._tag_key(tag)])
                    self._pending_tags.discard(tag)
        except REDIS_ERRORS as exc:
            self._mark_degraded(exc)
            return False
        self._mark_recovered()
        return True

    def _mark_degraded(self, exc: Exception) -> None:
        self.errors += 1
        if self._outage.failed():
            log.warning(
                "cache.redis_degraded",
                error=f"{type(exc).__name__}: {exc}",
                retry_seconds=self.retry_seconds,
                detail="cache lookups are misses until Redis answers again",
            )

    def _mark_recovered(self) -> None:
        outage = self._outage.succeeded()
        if outage is not None:
            log.warning("cache.redis_recovered", outage_seconds=round(outage, 1))

    def _remember_invalidation(self, tag: str) -> None:
        if len(self._pending_tags) >= self.max_pending_invalidations:
            # Too many to replay one by one: drop everything on recovery instead.
            self._pending_overflow = True
            self._pending_tags.clear()
        elif not self._pending_overflow:
            self._pending_tags.add(tag)
