"""Rate-limit configuration, built once from Settings (or directly, in tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from limits import RateLimitItem

from quantdesk.access.scopes import Role
from quantdesk.kit.clientip import Network, parse_networks
from quantdesk.ratelimit.policies import POLICIES, Policy, build_policies, build_tiers
from quantdesk.ratelimit.window import EXACT_INTEGER_LIMIT


class RateLimitSettings(Protocol):
    """The Settings fields rate limiting reads (quantdesk.config.Settings provides them)."""

    @property
    def redis_url(self) -> str | None: ...
    @property
    def rate_limit_enabled(self) -> bool: ...
    @property
    def rate_limit_guest(self) -> str: ...
    @property
    def rate_limit_user(self) -> str: ...
    @property
    def rate_limit_premium(self) -> str: ...
    @property
    def rate_limit_analyst(self) -> str: ...
    @property
    def rate_limit_admin(self) -> str: ...
    @property
    def rate_limit_policies(self) -> Mapping[str, str]: ...
    @property
    def rate_limit_redis_retry_seconds(self) -> float: ...
    @property
    def rate_limit_redis_timeout_seconds(self) -> float: ...
    @property
    def trusted_proxies(self) -> Sequence[str]: ...
    @property
    def ip_blocklist(self) -> Sequence[str]: ...
    @property
    def abuse_429_threshold(self) -> int: ...
    @property
    def abuse_window_seconds(self) -> int: ...
    @property
    def abuse_block_seconds(self) -> int: ...


def _default_tiers() -> dict[Role, RateLimitItem | None]:
    return build_tiers()


def _default_policies() -> dict[str, Policy]:
    return dict(POLICIES)


@dataclass(frozen=True)
class RateLimitConfig:
    enabled: bool = True
    # None: in-process counters. A redis:// URL: counters shared atomically by every process.
    storage_url: str | None = None
    tiers: Mapping[Role, RateLimitItem | None] = field(default_factory=_default_tiers)
    policies: Mapping[str, Policy] = field(default_factory=_default_policies)
    trusted_proxies: tuple[Network, ...] = ()
    blocklist: tuple[Network, ...] = ()
    # An IP answered 429 this many times within the window is blocked (403) for block_seconds.
    abuse_threshold: int = 20
    abuse_window_seconds: int = 60
    abuse_block_seconds: int = 900
    # How long a process trusts "not blocked" before asking the shared store again.
    abuse_recheck_seconds: float = 1.0
    # While Redis is unreachable, wait this long before trying it again (one refused
    # connection per process per probe); fail-closed routes recover this long after it returns.
    redis_retry_seconds: float = 2.0
    redis_timeout_seconds: float = 0.5
    key_prefix: str = "quantdesk:ratelimit"

    def __post_init__(self) -> None:
        if self.abuse_threshold < 1:
            raise ValueError("abuse threshold must be at least 1")
        if self.abuse_window_seconds < 1 or self.abuse_block_seconds < 1:
            raise ValueError("abuse window and block time must be at least 1 second")
        items = [(f"{role.value} tier", item) for role, item in self.tiers.items()]
        items += [(f"policy {name!r}", policy.item) for name, policy in self.policies.items()]
        for what, item in items:
            if item is not None:
                check_countable(item, what)

    @classmethod
    def from_settings(cls, settings: RateLimitSettings) -> RateLimitConfig:
        tiers = build_tiers(
            {
                Role.GUEST: settings.rate_limit_guest,
                Role.USER: settings.rate_limit_user,
                Role.PREMIUM: settings.rate_limit_premium,
                Role.ANALYST: settings.rate_limit_analyst,
                Role.ADMIN: settings.rate_limit_admin,
            }
        )
        return cls(
            enabled=settings.rate_limit_enabled,
            storage_url=settings.redis_url,
            tiers=tiers,
            policies=build_policies(settings.rate_limit_policies),
            trusted_proxies=parse_networks(settings.trusted_proxies),
            blocklist=parse_networks(settings.ip_blocklist),
            abuse_threshold=settings.abuse_429_threshold,
            abuse_window_seconds=settings.abuse_window_seconds,
            abuse_block_seconds=settings.abuse_block_seconds,
            redis_retry_seconds=settings.rate_limit_redis_retry_seconds,
            redis_timeout_seconds=settings.rate_limit_redis_timeout_seconds,
        )


def check_countable(item: RateLimitItem, what: str) -> None:
    """Refuse limits the sliding-window arithmetic cannot count exactly in Redis' Lua (its
    numbers are doubles, exact below 2**53): its sums reach 2 x (requests + 1) x window ms."""
    if 2 * (item.amount + 1) * item.get_expiry() * 1000 >= EXACT_INTEGER_LIMIT:
        raise ValueError(
            f"{what}: {item.amount} requests per {item.get_expiry()} s is too large to count "
            "(requests x window in ms must stay below 2**51); use a shorter window"
        )
