"""The Redis state store: atomic Lua scripts, shared by every process and replica.

When Redis stops answering, each operation runs on a per-process MemoryStateStore instead (a
breaker then trips per process, budgets are per process) and one warning is logged; after
`retry_seconds` the next operation probes Redis again. Connection errors never leave this
module, so a Redis outage cannot turn a market-data request into a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from quantdesk.infra.state import MemoryStateStore
from quantdesk.kit.outage import Outage
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.infra.state")
T = TypeVar("T")
STORE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)

# INCR that sets the expiry only when it creates the key (a fixed window, not a sliding one).
_INCR = """
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
"""

# Request spacing: the key holds the earliest time (Redis clock, seconds) the next request may
# start. Floats travel as strings: Lua numbers would be truncated to integer replies.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, next_free)
local wait = start - now
if wait > max_wait then return {0, tostring(wait)} end
local ttl = math.ceil((wait + interval) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', start + interval), 'PX', ttl)
return {1, string.format('%.6f', wait)}
"""

# Concurrency slots: a sorted set of lease tokens scored by their expiry (milliseconds).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisStateStore:
    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "quantdesk:",
        retry_seconds: float = 5.0,
        timeout_seconds: float = 0.5,
    ) -> None:
        self.key_prefix = key_prefix
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        # Short timeouts and one retry: a dead Redis costs one refused connection, not
        # redis-py's default retries with backoff, before the memory fallback answers.
        self._client = redis.asyncio.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 1),
            decode_responses=True,
        )
        self._incr = self._client.register_script(_INCR)
        self._reserve = self._client.register_script(_RESERVE)
        self._acquire = self._client.register_script(_ACQUIRE)
        self.fallback = MemoryStateStore()
        self._outage = Outage(retry_seconds=retry_seconds)

    @property
    def degraded(self) -> bool:
        return self._outage.degraded

    @property
    def shared(self) -> bool:
        return not self.degraded

    def _key(self, key: str) -> str:
        return self.key_prefix + key

    async def _run(
        self,
        remote: Callable[[], Awaitable[T]],
        local: Callable[[], Awaitable[T]],
    ) -> T:
        if self._outage.wait_before_probe():
            return await local()
        try:
            async with asyncio.timeout(self.timeout_seconds * 4):
                result = await remote()
        except STORE_ERRORS as exc:
            self._mark_degraded(exc)
            return await local()
        if self.degraded:
            self._mark_recovered()
        return result

    def _mark_degraded(self, exc: Exception) -> None:
        if self._outage.failed():
            log.warning(
                "state_store.degraded",
                error=f"{type(exc).__name__}: {exc}",
                retry_seconds=self.retry_seconds,
                detail="breaker state and provider budgets are per-process until Redis answers",
            )

    def _mark_recovered(self) -> None:
        outage = self._outage.succeeded()
        if outage is not None:
            log.warning("state_store.recovered", outage_seconds=round(outage, 1))

    async def get_hash(self, key: str) -> dict[str, str]:
        async def remote() -> dict[str, str]:
            values = await self._client.hgetall(self._key(key))
            return {str(field): str(value) for field, value in values.items()}

        return await self._run(remote, lambda: self.fallback.get_hash(key))

    async def set_hash(
        self, key: str, values: Mapping[str, str], *, ttl_seconds: float | None = None
    ) -> None:
        async def remote() -> None:
            async with self._client.pipeline(transaction=True) as pipe:
                mapping: dict[str | bytes, str | bytes] = dict(values.items())
                pipe.hset(self._key(key), mapping=mapping)  # type: ignore[arg-type]
                if ttl_seconds is not None:
                    pipe.pexpire(self._key(key), _ms(ttl_seconds))
                else:
                    pipe.persist(self._key(key))
                await pipe.execute()

        await self._run(
            remote, lambda: self.fallback.set_hash(key, values, ttl_seconds=ttl_seconds)
        )

    async def incr(self, key: str, *, ttl_seconds: float) -> int:
        async def remote() -> int:
            return int(await self._incr(keys=[self._key(key)], args=[_ms(ttl_seconds)]))

        return await self._run(remote, lambda: self.fallback.incr(key, ttl_seconds=ttl_seconds))

    async def delete(self, *keys: str) -> None:
        async def remote() -> None:
            await self._client.delete(*(self._key(key) for key in keys))

        await self._run(remote, lambda: self.fallback.delete(*keys))

    async def reserve(
        self, key: str, *, interval_seconds: float, max_wait_seconds: float
    ) -> float | None:
        async def remote() -> float | None:
            booked, wait = await self._reserve(
                keys=[self._key(key)], args=[repr(interval_seconds), repr(max_wait_seconds)]
            )
            return float(wait) if int(booked) == 1 else None

        return await self._run(
            remote,
            lambda: self.fallback.reserve(
                key, interval_seconds=interval_seconds, max_wait_seconds=max_wait_seconds
            ),
        )

    async def acquire_lease(self, key: str, token: str, *, limit: int, ttl_seconds: float) -> bool:
        async def remote() -> bool:
            args: list[Any] = [limit, _ms(ttl_seconds), token]
            return int(await self._acquire(keys=[self._key(key)], args=args)) == 1

        return await self._run(
            remote,
            lambda: self.fallback.acquire_lease(key, token, limit=limit, ttl_seconds=ttl_seconds),
        )

    async def release_lease(self, key: str, token: str) -> None:
        async def remote() -> None:
            await self._client.zrem(self._key(key), token)

        # Released on both: a lease taken during an outage lives in the fallback.
        await self.fallback.release_lease(key, token)
        await self._run(remote, lambda: self.fallback.release_lease(key, token))

    async def aclose(self) -> None:
        await self._client.aclose()
        await self.fallback.aclose()
