"""Recently verified API keys, kept in process memory for a few seconds.

Every API-key request would otherwise cost two database reads (the key by its hash, then its
owner) before the endpoint runs. Entries are keyed by the key's HMAC, hold the Principal the
database answered (without the caller's IP) and live for `api_key_cache_seconds` (default 5),
never past the key's own expiry and never past the moment its `last_used_at` is due for a
refresh, so that bookkeeping still happens on the normal path.

Revoking or rotating a key, and changing, deactivating or deleting its owner, drop the
affected entries in this process at once and again after the transaction commits (so a request
racing the change cannot re-cache the old state). Other processes (several API replicas)
notice within the TTL. A miss is loaded once however many requests wait on it (an expired entry
under load would otherwise send every in-flight request to the database at the same moment).
The bounded staleness is the price of not reading the database on every
request; set `QUANTDESK_API_KEY_CACHE_SECONDS=0` to verify every request against it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.db import after_commit

MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    valid_until: float  # time.monotonic()


# Verifies a key against the database: its Principal and how long it may be cached (seconds).
Loader = Callable[[], Awaitable[tuple[Principal, float]]]


def _for_ip(principal: Principal, client_ip: str) -> Principal:
    return (
        principal if principal.client_ip == client_ip else replace(principal, client_ip=client_ip)
    )


class ApiKeyCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Future[Principal]] = {}

    def get(self, key_hash: str, client_ip: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry.valid_until <= time.monotonic():
            self._entries.pop(key_hash, None)
            return None
        return _for_ip(entry.principal, client_ip)

    async def load(self, key_hash: str, client_ip: str, loader: Loader) -> Principal:
        """Run `loader` for a missed key, once for all concurrent callers, and cache it."""
        pending = self._loading.get(key_hash)
        if pending is None or pending.get_loop() is not asyncio.get_running_loop():
            pending = asyncio.ensure_future(self._load(key_hash, loader))
            self._loading[key_hash] = pending
        # Shielded: one caller giving up (a client disconnect) must not cancel the others' load.
        return _for_ip(await asyncio.shield(pending), client_ip)

    async def _load(self, key_hash: str, loader: Loader) -> Principal:
        try:
            principal, lifetime = await loader()
            self.put(key_hash, principal, lifetime)
            return principal
        finally:
            self._loading.pop(key_hash, None)

    def put(self, key_hash: str, principal: Principal, lifetime: float) -> None:
        if lifetime <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._evict_expired()
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))  # the oldest insertion
        self._entries[key_hash] = _Entry(principal, time.monotonic() + lifetime)

    def forget(self, *, key_id: int | None = None, user_id: int | None = None) -> None:
        stale = [
            key_hash
            for key_hash, entry in self._entries.items()
            if (key_id is not None and entry.principal.api_key_id == key_id)
            or (user_id is not None and entry.principal.user_id == user_id)
        ]
        for key_hash in stale:
            self._entries.pop(key_hash, None)

    def forget_now_and_after_commit(
        self, session: AsyncSession, *, key_id: int | None = None, user_id: int | None = None
    ) -> None:
        self.forget(key_id=key_id, user_id=user_id)
        after_commit(session, lambda: self.forget(key_id=key_id, user_id=user_id))

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _evict_expired(self) -> None:
        now = time.monotonic()
        for key_hash in [k for k, e in self._entries.items() if e.valid_until <= now]:
            self._entries.pop(key_hash, None)


# One per process, like the connection pool: every app in the process sees the same keys.
api_key_cache = ApiKeyCache()
