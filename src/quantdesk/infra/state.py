"""Small shared state for the provider layer: circuit-breaker state and request budgets.

Every operation is atomic in each implementation, so several processes sharing one Redis agree
on a breaker's state and on how many requests a provider may take. The memory store gives the
same semantics inside one process (the embedded mode, and the fallback while Redis is down).

Time inside the store is the store's own clock (Redis `TIME` for Redis), so processes with
skewed clocks still space their requests correctly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from quantdesk.config import Settings


@runtime_checkable
class StateStore(Protocol):
    """Atomic primitives; keys are namespaced by the caller."""

    @property
    def shared(self) -> bool:
        """True while the state is shared by every process (Redis configured and answering)."""
        ...

    async def get_hash(self, key: str) -> dict[str, str]: ...

    async def set_hash(
        self, key: str, values: Mapping[str, str], *, ttl_seconds: float | None = None
    ) -> None: ...

    async def incr(self, key: str, *, ttl_seconds: float) -> int:
        """Add one and return the new value; the key expires `ttl_seconds` after creation."""
        ...

    async def delete(self, *keys: str) -> None: ...

    async def reserve(
        self, key: str, *, interval_seconds: float, max_wait_seconds: float
    ) -> float | None:
        """Book the next request slot of a budget that spaces requests `interval_seconds`
        apart: returns how long to wait before sending, or None (nothing booked) when that
        wait would exceed `max_wait_seconds`."""
        ...

    async def acquire_lease(self, key: str, token: str, *, limit: int, ttl_seconds: float) -> bool:
        """Take one of `limit` concurrent slots; a lease not released expires after `ttl`
        (a crashed process cannot hold a slot forever)."""
        ...

    async def release_lease(self, key: str, token: str) -> None: ...

    async def aclose(self) -> None: ...


@dataclass
class _Entry:
    value: object
    expires_at: float | None


class MemoryStateStore:
    """Per-process state (asyncio is single-threaded, so each method is atomic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    @property
    def shared(self) -> bool:
        return False

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at is not None and entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        return entry

    def _expiry(self, ttl_seconds: float | None) -> float | None:
        return None if ttl_seconds is None else self._clock() + ttl_seconds

    async def get_hash(self, key: str) -> dict[str, str]:
        entry = self._live(key)
        return dict(entry.value) if entry is not None and isinstance(entry.value, dict) else {}

    async def set_hash(
        self, key: str, values: Mapping[str, str], *, ttl_seconds: float | None = None
    ) -> None:
        entry = self._live(key)
        current = dict(entry.value) if entry is not None and isinstance(entry.value, dict) else {}
        current.update(values)
        self._entries[key] = _Entry(current, self._expiry(ttl_seconds))

    async def incr(self, key: str, *, ttl_seconds: float) -> int:
        entry = self._live(key)
        if entry is None or not isinstance(entry.value, int):
            self._entries[key] = _Entry(1, self._expiry(ttl_seconds))
            return 1
        entry.value += 1
        return entry.value

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def reserve(
        self, key: str, *, interval_seconds: float, max_wait_seconds: float
    ) -> float | None:
        now = self._clock()
        entry = self._live(key)
        next_free = (
            float(entry.value) if entry is not None and isinstance(entry.value, float) else 0
        )
        start = max(now, next_free)
        wait = start - now
        if wait > max_wait_seconds:
            return None
        self._entries[key] = _Entry(start + interval_seconds, start + interval_seconds + 1.0)
        return wait

    async def acquire_lease(self, key: str, token: str, *, limit: int, ttl_seconds: float) -> bool:
        now = self._clock()
        entry = self._live(key)
        leases: dict[str, float] = (
            entry.value if entry is not None and isinstance(entry.value, dict) else {}
        )
        leases = {held: until for held, until in leases.items() if until > now}
        if len(leases) >= limit:
            self._entries[key] = _Entry(leases, None)
            return False
        leases[token] = now + ttl_seconds
        self._entries[key] = _Entry(leases, None)
        return True

    async def release_lease(self, key: str, token: str) -> None:
        entry = self._live(key)
        if entry is not None and isinstance(entry.value, dict):
            entry.value.pop(token, None)

    async def aclose(self) -> None:
        self._entries.clear()


def state_store_from_settings(settings: Settings, *, key_prefix: str = "quantdesk:") -> StateStore:
    """Redis when `redis_url` is set (distributed mode), else process memory."""
    if settings.redis_url:
        from quantdesk.infra.redis_state import RedisStateStore

        return RedisStateStore(settings.redis_url, key_prefix=key_prefix)
    return MemoryStateStore()
