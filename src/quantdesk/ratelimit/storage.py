"""Where limit counters live: Redis when configured (shared by every process), else memory.

Each backend offers the rate limiter's sliding-window counters (`counters`: ratelimit/memory.py
or ratelimit/redis_counters.py, one pipelined Redis round trip a request) and a `limits` storage and
moving-window strategy for the rest (abuse blocking, login throttling).

When Redis stops answering, operations run on a per-process MemoryStorage instead and the
storage is marked degraded; after `retry_seconds` one request probes Redis again, and the
first success ends the outage. Connection errors never leave this module: callers either get
a result (possibly per-process) or, when they asked to fail closed, `RateLimitUnavailable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import redis.asyncio
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from quantdesk.kit.outage import Outage
from quantdesk.observability.logging import get_logger
from quantdesk.ratelimit.errors import RateLimitUnavailable
from quantdesk.ratelimit.memory import MovingWindowMemoryStorage, WindowCounters
from quantdesk.ratelimit.redis_counters import RedisCounters
from quantdesk.ratelimit.window import Counted

log = get_logger("quantdesk.ratelimit")

T = TypeVar("T")

# Everything a dead, slow or confused Redis can raise through redis-py and `limits`.
STORAGE_ERRORS: tuple[type[Exception], ...] = (RedisError, StorageError, OSError, TimeoutError)


class Counters(Protocol):
    async def ahit(
        self, key: str, limit: int, window_ms: int, index: int, elapsed: int
    ) -> Counted: ...


@dataclass(frozen=True)
class Backend:
    storage: Storage
    strategy: MovingWindowRateLimiter
    shared: bool
    counters: Counters


def _backend(storage: Storage, counters: Counters, *, shared: bool) -> Backend:
    strategy = MovingWindowRateLimiter(storage)
    return Backend(storage=storage, strategy=strategy, shared=shared, counters=counters)


def _limits_uri(url: str) -> str:
    """The `limits` scheme for a redis-py URL (the connection itself comes from our pool)."""
    if url.startswith("async+"):
        return url
    if url.startswith("unix://"):
        return "async+redis+" + url
    return "async+" + url


class RateLimitStorage:
    def __init__(
        self,
        url: str | None = None,
        *,
        key_prefix: str = "quantdesk:ratelimit",
        retry_seconds: float = 5.0,
        timeout_seconds: float = 0.5,
    ) -> None:
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        self.memory_counters = WindowCounters()
        self._memory = _backend(MovingWindowMemoryStorage(), self.memory_counters, shared=False)
        self._redis: Backend | None = None
        self.redis_counters: RedisCounters | None = None
        self._pool: redis.asyncio.ConnectionPool | None = None
        self._outage = Outage(retry_seconds=retry_seconds)
        if url:
            # Our own pool: short timeouts and a single retry, so a dead Redis costs one
            # refused connection, not redis-py's default ten retries with backoff.
            self._pool = redis.asyncio.ConnectionPool.from_url(
                url,
                socket_timeout=timeout_seconds,
                socket_connect_timeout=timeout_seconds,
                retry=Retry(NoBackoff(), 1),
            )
            options: dict[str, Any] = {"connection_pool": self._pool}
            storage = RedisStorage(
                _limits_uri(url), implementation="redispy", key_prefix=key_prefix, **options
            )
            self.redis_counters = RedisCounters(url, key_prefix, timeout_seconds=timeout_seconds)
            self._redis = _backend(storage, self.redis_counters, shared=True)

    @property
    def memory_only(self) -> WindowCounters | None:
        """The per-process counters when no shared store is configured at all, else None."""
        return self.memory_counters if self._redis is None else None

    @property
    def degraded(self) -> bool:
        return self._outage.degraded

    @property
    def shared(self) -> bool:
        """True while counters are shared by every process (Redis configured and answering)."""
        return self._redis is not None and not self.degraded

    def retry_after(self) -> int:
        return self._outage.retry_after()

    async def ensure_available(self) -> None:
        """Raise RateLimitUnavailable while a configured shared store is down.

        Free while Redis is healthy (no round trip); during an outage it probes Redis at
        most once per `retry_seconds`, like `run`.
        """
        if not self.degraded:
            return

        async def probe(backend: Backend) -> None:
            await backend.storage.get("probe")

        await self.run(probe, fail_closed=True)

    async def run(
        self, op: Callable[[Backend], Awaitable[T]], *, fail_closed: bool, timed: bool = True
    ) -> T:
        """Run `op` on Redis when it is configured and answering, else on process memory.

        `timed=False`: `op` bounds its own wait (the counters' connection has a watchdog), so
        no per-call timer is armed (one costs ~5 us; the limiter calls this per request)."""
        primary = self._redis
        if primary is None:
            return await op(self._memory)
        outage, probing = self._outage, False
        if outage.degraded:
            if outage.wait_before_probe():
                if fail_closed:
                    raise RateLimitUnavailable(self.retry_after())
                return await op(self._memory)
            outage.probing = probing = True
        try:
            if timed:
                async with asyncio.timeout(self.timeout_seconds * 4):
                    result = await op(primary)
            else:
                result = await op(primary)
        except STORAGE_ERRORS as exc:
            self._mark_degraded(exc)
            if fail_closed:
                raise RateLimitUnavailable(self.retry_after()) from None
            return await op(self._memory)
        finally:
            if probing:
                outage.probing = False
        if outage.degraded:
            self._mark_recovered()
        return result

    def _mark_degraded(self, exc: Exception) -> None:
        if self._outage.failed():
            log.warning(
                "ratelimit.storage_degraded",
                error=f"{type(exc).__name__}: {exc}",
                retry_seconds=self.retry_seconds,
                detail="rate limits are per-process; fail-closed routes answer 503",
            )

    def _mark_recovered(self) -> None:
        outage = self._outage.succeeded()
        if outage is not None:
            log.warning("ratelimit.storage_recovered", outage_seconds=round(outage, 1))

    async def aclose(self) -> None:
        if self.redis_counters is not None:
            await self.redis_counters.aclose()
        if self._pool is not None:
            await self._pool.aclose()
