"""Abuse blocking: a static blocklist, and temporary blocks for IPs that keep hitting 429.

Violation counters and blocks live in the rate-limit storage, so with Redis a block made by
one process is enforced by all of them. Each process remembers the blocks it has seen (a
blocked flood costs no storage round trip) and, for `recheck_seconds`, that an IP was not
blocked: a block made elsewhere takes effect here within that delay, and ordinary traffic
does not pay a Redis round trip per request for it.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from quantdesk.kit.clientip import Network
from quantdesk.observability.logging import get_logger
from quantdesk.ratelimit.storage import Backend, RateLimitStorage

log = get_logger("quantdesk.security")

_LOCAL_ENTRIES_MAX = 10_000


@dataclass(frozen=True)
class Block:
    reason: Literal["blocklist", "abuse"]
    # Seconds until a temporary block ends; None for the static blocklist.
    retry_after: int | None = None


def _on_blocklist(ip: str, blocklist: Sequence[Network]) -> bool:
    if not blocklist:  # the usual case: no address parsing per request
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in blocklist)


def _bounded_set(entries: dict[str, float], ip: str, until: float, now: float) -> None:
    """Set `entries[ip]`, dropping expired entries (then all) when the dict is full."""
    if len(entries) >= _LOCAL_ENTRIES_MAX and ip not in entries:
        for key in [k for k, v in entries.items() if v <= now]:
            del entries[key]
        if len(entries) >= _LOCAL_ENTRIES_MAX:
            entries.clear()
    entries[ip] = until


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
        self._local_blocks: dict[str, float] = {}  # ip -> epoch seconds the block ends
        self._known_clear: dict[str, float] = {}  # ip -> epoch seconds to look again

    @staticmethod
    def _violations_key(ip: str) -> str:
        return f"abuse/429/{ip}"

    @staticmethod
    def _block_key(ip: str) -> str:
        return f"abuse/block/{ip}"

    async def check(self, ip: str) -> Block | None:
        """Why `ip` may not be served right now, or None."""
        if _on_blocklist(ip, self.blocklist):
            return Block("blocklist")
        now = time.time()
        until = self._local_blocks.get(ip)
        if until is not None:
            if until > now:
                return Block("abuse", retry_after=max(1, math.ceil(until - now)))
            del self._local_blocks[ip]
        if self._known_clear.get(ip, 0.0) > now:
            return None

        key = self._block_key(ip)

        async def read(backend: Backend) -> float | None:
            if await backend.storage.get(key) <= 0:
                return None
            return await backend.storage.get_expiry(key)

        expires = await self.storage.run(read, fail_closed=False)
        if expires is None:
            if self.recheck_seconds > 0:
                _bounded_set(self._known_clear, ip, now + self.recheck_seconds, now)
            return None
        expires = max(expires, now + 1)
        self._remember(ip, expires)
        return Block("abuse", retry_after=max(1, math.ceil(expires - now)))

    async def record_violation(self, ip: str) -> bool:
        """Count one 429 answered to `ip`; True when this one got the IP blocked."""
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
        self._known_clear.pop(ip, None)
        _bounded_set(self._local_blocks, ip, until, time.time())

    async def unblock(self, ip: str) -> None:
        """Lift a temporary block (operator action; the static blocklist is config)."""
        self._local_blocks.pop(ip, None)
        self._known_clear.pop(ip, None)
        violations_key, block_key = self._violations_key(ip), self._block_key(ip)

        async def clear(backend: Backend) -> None:
            await backend.storage.clear(block_key)
            await backend.storage.clear(violations_key)

        await self.storage.run(clear, fail_closed=False)
