"""What a cache backend stores and the operations `Cache` needs from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(slots=True)
class Entry:
    """A cached value with the clock readings at which it turns stale and then expires."""

    value: Any
    fresh_until: float
    stale_until: float
    category: str = ""
    tags: tuple[str, ...] = ()


class CacheBackend(Protocol):
    name: str
    # True when several processes share the entries (their clocks must agree: wall time).
    shared: bool

    @property
    def degraded(self) -> bool:
        """True while the store is unreachable and every lookup is a miss."""
        ...

    async def get(self, key: str) -> Entry | None: ...

    async def set(
        self, key: str, entry: Entry, *, tags: Sequence[str], lifetime: float
    ) -> None: ...

    async def acquire(self, key: str, seconds: float) -> str | None:
        """A token for the fill lock of `key`, or None while another process holds it."""
        ...

    async def release(self, key: str, token: str) -> None: ...

    async def invalidate_tag(self, tag: str) -> int:
        """Drop every entry carrying `tag`; the number dropped."""
        ...

    async def size(self, category: str, now: float) -> int | None:
        """Live entries of a category (None when the store cannot tell right now)."""
        ...

    async def clear(self) -> None: ...

    async def aclose(self) -> None: ...
