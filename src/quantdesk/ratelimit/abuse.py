"""Abuse blocking: a static blocklist, and temporary blocks for IPs that keep hitting 429.

Only anonymous traffic is counted and blocked: a caller presenting credentials is governed by
its own key's or user's limits, so an admin's API key keeps working from an address whose
anonymous traffic is blocked. The edge never applies abuse blocks to `/health*` or `/metrics`.

Violation counters and blocks live in the rate-limit storage, so with Redis a block made by
one process is enforced by all of them, and lifting it (`DELETE /api/v1/admin/blocks/{ip}`,
`quantdesk ratelimit unblock IP`) lifts it everywhere. Each process remembers the blocks and
the clear IPs it has seen for `recheck_seconds` (a blocked flood costs at most one storage
round trip per IP and interval; ordinary traffic does not pay one per request): a block made
or lifted elsewhere takes effect here within that delay. Without Redis, the process memory is
the store itself and nothing needs rechecking.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from limits.aio.storage import MemoryStorage, RedisStorage

from quantdesk.kit.clientip import Network
from quantdesk.observability.logging import get_logger
from quantdesk.ratelimit.storage import Backend, RateLimitStorage

log = get_logger("quantdesk.security")

_LOCAL_ENTRIES_MAX = 10_000
_BLOCK_PREFIX = "abuse/block/"
V = TypeVar("V")


@dataclass(frozen=True)
class Block:
    reason: Literal["blocklist", "abuse"]
    # Seconds until a temporary block ends; None for the static blocklist.
    retry_after: int | None = None


@dataclass(frozen=True)
class ActiveBlock:
    """A temporary abuse block, as listed for operators."""

    ip: str
    expires_at: float  # epoch seconds

    def retry_after(self, now: float | None = None) -> int:
        return max(1, math.ceil(self.expires_at - (time.time() if now is None else now)))


@dataclass(slots=True)
class _Seen:
    until: float  # epoch seconds the block ends
    recheck_at: float  # epoch seconds after which the shared store is asked again


def _on_blocklist(ip: str, blocklist: Sequence[Network]) -> bool:
    if not blocklist:  # the usual case: no address parsing per request
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in blocklist)


def _bounded_set(entries: dict[str, V], ip: str, value: V, expired: Callable[[V], bool]) -> None:
    """Set `entries[ip]`, dropping expired entries (then all) when the dict is full."""
    if len(entries) >= _LOCAL_ENTRIES_MAX and ip not in entries:
        for key in [k for k, v in entries.items() if expired(v)]:
            del entries[key]
        if len(entries) >= _LOCAL_ENTRIES_MAX:
            entries.clear()
    entries[ip] = value


async def _stored_blocks(backend: Backend) -> list[tuple[str, float]]:
    """(ip, expiry) of every block in `backend`'s store."""
    storage = backend.storage
    found: list[tuple[str, float]] = []
    if isinstance(storage, RedisStorage):
        bridge = storage.bridge
        prefixed = bridge.prefixed_key(_BLOCK_PREFIX)
        connection = bridge.get_connection()  # type: ignore[attr-defined]
        now = time.time()
        async for raw in connection.scan_iter(match=prefixed + "*", count=500):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            ttl_ms = await connection.pttl(key)
            if ttl_ms > 0:
                found.append((key.removeprefix(prefixed), now + ttl_ms / 1000))
    elif isinstance(storage, MemoryStorage):
        now = time.time()
        for key, expires in list(storage.expirations.items()):
            if key.startswith(_BLOCK_PREFIX) and expires > now and storage.storage.get(key):
                found.append((key.removeprefix(_BLOCK_PREFIX), expires))
    return found


class AbuseGuard:
    def __init__(
        self,
        storage: RateLimitStorage,
        *,
        blocklist: Sequence[Network] = (),
        threshold: int = 20,
        window_seconds: int = 60,
        block_seconds: int = 900,
        recheck_seconds: float = 1.0,
    ) -> None:
        self.storage = storage
        self.blocklist = tuple(blocklist)
        self.threshold = threshold
        self.window_seconds = window_seconds
        self.block_seconds = block_seconds
        self.recheck_seconds = recheck_seconds
        self._local_blocks: dict[str, _Seen] = {}
        self._known_clear: dict[str, float] = {}  # ip -> epoch seconds to look again

    @staticmethod
    def _violations_key(ip: str) -> str:
        return f"abuse/429/{ip}"

    @staticmethod
    def _block_key(ip: str) -> str:
        return _BLOCK_PREFIX + ip

    async def check(self, ip: str, *, temporary: bool = True) -> Block | None:
        """Why `ip` may not be served right now, or None. `temporary=False` asks about the
        static blocklist only (callers that abuse blocks do not apply to)."""
        if _on_blocklist(ip, self.blocklist):
            return Block("blocklist")
        if not temporary:
            return None
        now = time.time()
        seen = self._local_blocks.get(ip)
        if seen is not None:
            if seen.until <= now:
                del self._local_blocks[ip]
            elif seen.recheck_at > now:
                return Block("abuse", retry_after=max(1, math.ceil(seen.until - now)))
        elif self._known_clear.get(ip, 0.0) > now:
            return None
        expires = await self._stored_expiry(ip)
        if expires is None:
            if seen is not None and seen.until > now and not self.storage.shared:
                # The shared store is configured but down: keep the block this process saw.
                seen.recheck_at = now + self.recheck_seconds
                return Block("abuse", retry_after=max(1, math.ceil(seen.until - now)))
            self._local_blocks.pop(ip, None)
            if self.recheck_seconds > 0:
                _bounded_set(self._known_clear, ip, now + self.recheck_seconds, lambda v: v <= now)
            return None
        expires = max(expires, now + 1)
        self._remember(ip, expires)
        return Block("abuse", retry_after=max(1, math.ceil(expires - now)))

    async def _stored_expiry(self, ip: str) -> float | None:
        key = self._block_key(ip)

        async def read(backend: Backend) -> float | None:
            if await backend.storage.get(key) <= 0:
                return None
            return await backend.storage.get_expiry(key)

        return await self.storage.run(read, fail_closed=False)

    async def record_violation(self, ip: str) -> bool:
        """Count one 429 answered to anonymous `ip`; True when this one got the IP blocked."""
        violations_key, block_key = self._violations_key(ip), self._block_key(ip)
        window, threshold, block_seconds = self.window_seconds, self.threshold, self.block_seconds

        async def count(backend: Backend) -> int:
            seen = await backend.storage.incr(violations_key, window)
            if seen >= threshold:
                await backend.storage.incr(block_key, block_seconds)
                await backend.storage.clear(violations_key)
            return seen

        seen = await self.storage.run(count, fail_closed=False)
        if seen < threshold:
            return False
        self._remember(ip, time.time() + block_seconds)
        log.warning(
            "security.ip_blocked",
            ip=ip,
            reason="abuse",
            rate_limited_responses=seen,
            window_seconds=window,
            block_seconds=block_seconds,
            shared=self.storage.shared,
        )
        return True

    def _remember(self, ip: str, until: float) -> None:
        now = time.time()
        self._known_clear.pop(ip, None)
        # Without a shared store this process's memory is the store: nothing to recheck.
        shared = self.storage.memory_only is None
        recheck_at = min(until, now + self.recheck_seconds) if shared else until
        _bounded_set(
            self._local_blocks, ip, _Seen(until, recheck_at), lambda seen: seen.until <= now
        )

    async def blocks(self) -> list[ActiveBlock]:
        """Every temporary block in force, soonest to end first (from the shared store when
        there is one, so every process's blocks are listed)."""
        stored = await self.storage.run(_stored_blocks, fail_closed=False)
        return sorted(
            (ActiveBlock(ip, expires) for ip, expires in stored),
            key=lambda block: (block.expires_at, block.ip),
        )

    async def unblock(self, ip: str) -> bool:
        """Lift a temporary block (operator action; the static blocklist is config). True
        when `ip` was blocked."""
        seen = self._local_blocks.pop(ip, None)
        self._known_clear.pop(ip, None)
        violations_key, block_key = self._violations_key(ip), self._block_key(ip)

        async def clear(backend: Backend) -> bool:
            existed = await backend.storage.get(block_key) > 0
            await backend.storage.clear(block_key)
            await backend.storage.clear(violations_key)
            return existed

        existed = await self.storage.run(clear, fail_closed=False)
        if existed:
            log.warning("security.ip_unblocked", ip=ip, shared=self.storage.shared)
        return existed or (seen is not None and seen.until > time.time())
