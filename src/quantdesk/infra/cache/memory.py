"""Process-memory backend: a bounded LRU dict with a tag index.

The hit path is `OrderedDict.get` plus `move_to_end`; `Cache` reads it synchronously through
`peek`, so a hit never yields to the event loop.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from quantdesk.infra.cache.backend import Entry

LOCAL_LOCK = "local"


class MemoryBackend:
    name = "memory"
    shared = False
    degraded = False

    def __init__(self, max_entries: int = 50_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._tags: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    async def get(self, key: str) -> Entry | None:
        return self.peek(key)

    async def set(self, key: str, entry: Entry, *, tags: Sequence[str], lifetime: float) -> None:
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._unlink(key, previous)
        entry.tags = tuple(tags)
        self._entries[key] = entry
        for tag in entry.tags:
            self._tags.setdefault(tag, set()).add(key)
        while len(self._entries) > self.max_entries:
            evicted_key, evicted = self._entries.popitem(last=False)
            self._unlink(evicted_key, evicted)

    async def acquire(self, key: str, seconds: float) -> str | None:
        # One process: Cache's in-flight table already makes the fill single.
        return LOCAL_LOCK

    async def release(self, key: str, token: str) -> None:
        return None

    async def invalidate_tag(self, tag: str) -> int:
        dropped = 0
        for key in self._tags.pop(tag, set()):
            entry = self._entries.pop(key, None)
            if entry is not None:
                self._unlink(key, entry)
                dropped += 1
        return dropped

    async def size(self, category: str, now: float) -> int | None:
        # Expired entries linger until evicted or overwritten; stats purge them first.
        expired = [key for key, entry in self._entries.items() if entry.stale_until <= now]
        for key in expired:
            self._unlink(key, self._entries.pop(key))
        return sum(1 for entry in self._entries.values() if entry.category == category)

    async def clear(self) -> None:
        self._entries.clear()
        self._tags.clear()

    async def aclose(self) -> None:
        await self.clear()

    def _unlink(self, key: str, entry: Entry) -> None:
        for tag in entry.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]
