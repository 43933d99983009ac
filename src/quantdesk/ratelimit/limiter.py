"""The rate limiter: sliding-window counters on the configured storage, and response headers.

Each request costs O(1): one synchronous dict update in memory, or one EVALSHA of a small Lua
script with Redis (ratelimit/window.py has the algorithm and its accuracy trade-off). With
Redis the count is shared atomically by every process using it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from limits import RateLimitItem

from quantdesk.ratelimit.abuse import AbuseGuard
from quantdesk.ratelimit.config import RateLimitConfig, RateLimitSettings
from quantdesk.ratelimit.policies import describe_item
from quantdesk.ratelimit.storage import Backend, RateLimitStorage
from quantdesk.ratelimit.window import Counted, outcome


@dataclass(slots=True)  # not frozen: one is built per request, and frozen init costs 2.5x
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when one more request slot is free (now when all are)
    retry_after: int  # seconds; 0 when allowed
    window_seconds: int
    label: str = ""
    shared: bool = True  # False when counted per process (no Redis, or Redis down)

    def reset_in(self, now: float | None = None) -> int:
        return max(0, math.ceil(self.reset_at - (time.time() if now is None else now)))


class RateLimiter:
    def __init__(self, config: RateLimitConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock  # epoch seconds; tests pass their own
        self.storage = RateLimitStorage(
            config.storage_url,
            key_prefix=config.key_prefix,
            retry_seconds=config.redis_retry_seconds,
            timeout_seconds=config.redis_timeout_seconds,
        )
        self.abuse = AbuseGuard(
            self.storage,
            blocklist=config.blocklist,
            threshold=config.abuse_threshold,
            window_seconds=config.abuse_window_seconds,
            block_seconds=config.abuse_block_seconds,
            recheck_seconds=config.abuse_recheck_seconds,
        )
        # Called with the IP when abuse blocking starts a block (the app records it in the
        # audit log; this package knows nothing of the database).
        self.on_block: Callable[[str], Awaitable[None]] | None = None

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    async def hit(
        self, key: str, item: RateLimitItem, *, fail_closed: bool, label: str = ""
    ) -> Decision:
        """Count one request for `key` against `item`.

        Raises RateLimitUnavailable only when `fail_closed` and the shared store is down.
        """

        params = _ITEM_PARAMS.get(id(item))
        if params is None or params[0] is not item:
            params = _item_params(item)
        _, limit, window_ms, prefix, suffix, description = params
        now = self.clock()
        now_ms = int(now * 1000)
        index = now_ms // window_ms
        elapsed = now_ms - index * window_ms
        counter_key = prefix + key + suffix
        memory = self.storage.memory_only
        if memory is not None:  # per-process counting: one synchronous call
            counted, shared = memory.hit(counter_key, limit, window_ms, index, elapsed), False
        else:

            async def op(backend: Backend) -> tuple[Counted, bool]:
                counts = await backend.counters.ahit(counter_key, limit, window_ms, index, elapsed)
                return counts, backend.shared

            counted, shared = await self.storage.run(op, fail_closed=fail_closed, timed=False)
        remaining, reset_ms, retry_ms = outcome(limit, window_ms, counted, now_ms)
        allowed = counted[0]
        return Decision(
            allowed,
            limit,
            remaining,
            now if remaining == limit else reset_ms / 1000,
            0 if allowed else max(1, -((now_ms - retry_ms) // 1000)),
            window_ms // 1000,
            label or description,
            shared,
        )

    async def aclose(self) -> None:
        await self.storage.aclose()


_KEY_AFFIXES: dict[RateLimitItem, tuple[str, str]] = {}
# id(item) -> (item, limit, window ms, key prefix, key suffix, description): hashing a
# RateLimitItem runs Python code, and limits live as long as the configuration.
_ItemParams = tuple[RateLimitItem, int, int, str, str, str]
_ITEM_PARAMS: dict[int, _ItemParams] = {}


def _item_params(item: RateLimitItem) -> _ItemParams:
    prefix, suffix = storage_key(item, "\x00").split("\x00")
    params = (item, item.amount, item.get_expiry() * 1000, prefix, suffix, describe_item(item))
    _ITEM_PARAMS[id(item)] = params
    return params


def storage_key(item: RateLimitItem, key: str) -> str:
    """`item.key_for(key)` (the limit's amount and window follow the key, so changing a limit
    starts fresh counts), from affixes worked out once per limit (the library rebuilds the
    whole string per call)."""
    affixes = _KEY_AFFIXES.get(item)
    if affixes is None:
        marker = "\x00"
        prefix, suffix = item.key_for(marker).split(marker)
        affixes = _KEY_AFFIXES[item] = (prefix, suffix)
    return affixes[0] + key + affixes[1]


def build_rate_limiter(settings: RateLimitSettings) -> RateLimiter:
    return RateLimiter(RateLimitConfig.from_settings(settings))


def binding_decision(decisions: Sequence[Decision]) -> Decision | None:
    """The decision the headers report: a refusal if any, else the one closest to running out."""
    if not decisions:
        return None
    refused = [d for d in decisions if not d.allowed]
    if refused:
        return max(refused, key=lambda d: d.retry_after)
    return min(decisions, key=lambda d: (d.remaining / d.limit, d.remaining))


# Every header encoded_rate_limit_headers may write (the edge owns them on every response).
RATE_LIMIT_HEADER_NAMES = frozenset(
    {
        b"ratelimit-limit",
        b"ratelimit-remaining",
        b"ratelimit-reset",
        b"ratelimit-policy",
        b"x-ratelimit-limit",
        b"x-ratelimit-remaining",
        b"x-ratelimit-reset",
        b"retry-after",
    }
)


def encoded_rate_limit_headers(
    decision: Decision, now: float | None = None
) -> list[tuple[bytes, bytes]]:
    """IETF `RateLimit-*` (reset in seconds from now) and the de-facto `X-RateLimit-*`
    (reset as epoch seconds, as GitHub and most clients expect); `Retry-After` on refusal.
    ASGI-encoded (lower-case names): the edge adds them to every limited response."""
    limit = str(decision.limit).encode()
    remaining = str(decision.remaining).encode()
    headers = [
        (b"ratelimit-limit", limit),
        (b"ratelimit-remaining", remaining),
        (b"ratelimit-reset", str(decision.reset_in(now)).encode()),
        (b"ratelimit-policy", b"%d;w=%d" % (decision.limit, decision.window_seconds)),
        (b"x-ratelimit-limit", limit),
        (b"x-ratelimit-remaining", remaining),
        (b"x-ratelimit-reset", str(math.ceil(decision.reset_at)).encode()),
    ]
    if not decision.allowed:
        headers.append((b"retry-after", str(decision.retry_after).encode()))
    return headers


def rate_limit_headers(decision: Decision, now: float | None = None) -> dict[str, str]:
    """The same headers as a dict, for a refusal's problem+json response."""
    return {
        name.decode(): value.decode() for name, value in encoded_rate_limit_headers(decision, now)
    }
