"""What is cached for how long, and the tags that invalidate it: the one table to read.

A value is *fresh* for `ttl` seconds after it was computed: it is served as a hit. Until
`stale_ttl` seconds after it was computed it is *stale*: served at once while one background
refresh replaces it (stale-while-revalidate). After that it is gone. `stale_ttl == ttl` means
never serve stale (signals: an outdated signal is worse than a slower answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from quantdesk.config import ConfigError, Settings


class CacheCategory(StrEnum):
    QUOTES = "quotes"
    BARS = "bars"
    # Derived from bars, so it lives as long as they do.
    INDICATORS = "indicators"
    FINANCIALS = "financials"
    FUND_NAVS = "fund_navs"
    NEWS = "news"
    SIGNALS = "signals"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    ttl: float
    stale_ttl: float


MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

DEFAULT_POLICIES: Mapping[CacheCategory, CachePolicy] = MappingProxyType(
    {
        CacheCategory.QUOTES: CachePolicy(ttl=30, stale_ttl=5 * MINUTE),
        CacheCategory.BARS: CachePolicy(ttl=MINUTE, stale_ttl=HOUR),
        CacheCategory.INDICATORS: CachePolicy(ttl=MINUTE, stale_ttl=HOUR),
        CacheCategory.FINANCIALS: CachePolicy(ttl=HOUR, stale_ttl=DAY),
        CacheCategory.FUND_NAVS: CachePolicy(ttl=5 * MINUTE, stale_ttl=HOUR),
        CacheCategory.NEWS: CachePolicy(ttl=2 * MINUTE, stale_ttl=10 * MINUTE),
        CacheCategory.SIGNALS: CachePolicy(ttl=MINUTE, stale_ttl=MINUTE),
    }
)

# New bars for a symbol make these of its entries wrong (the bars themselves included: a
# cached "latest bars" answer would lack the new one).
INVALIDATED_BY_NEW_BARS = (
    CacheCategory.BARS,
    CacheCategory.QUOTES,
    CacheCategory.INDICATORS,
    CacheCategory.SIGNALS,
)


def symbol_tag(category: CacheCategory, symbol: str) -> str:
    """The tag an entry about one symbol carries, e.g. `quotes:AAPL`."""
    return f"{category.value}:{symbol.upper()}"


def category_tag(category: CacheCategory) -> str:
    """Carried by every entry of a category, so an admin can flush a whole category."""
    return f"category:{category.value}"


def new_bars_tags(symbol: str) -> list[str]:
    """Tags to invalidate after new bars for `symbol` were stored."""
    return [symbol_tag(category, symbol) for category in INVALIDATED_BY_NEW_BARS]


def policies_from_settings(settings: Settings) -> dict[CacheCategory, CachePolicy]:
    """DEFAULT_POLICIES with `cache_ttl_seconds` / `cache_stale_ttl_seconds` overrides."""
    known = {category.value for category in CacheCategory}
    for name, overrides in (
        ("QUANTDESK_CACHE_TTL_SECONDS", settings.cache_ttl_seconds),
        ("QUANTDESK_CACHE_STALE_TTL_SECONDS", settings.cache_stale_ttl_seconds),
    ):
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"{name}: unknown cache categories {unknown}; known: {sorted(known)}")
        negative = sorted(key for key, seconds in overrides.items() if seconds < 0)
        if negative:
            raise ConfigError(f"{name}: seconds must be >= 0 (check {negative})")
    policies: dict[CacheCategory, CachePolicy] = {}
    for category, default in DEFAULT_POLICIES.items():
        ttl = settings.cache_ttl_seconds.get(category.value, default.ttl)
        stale = settings.cache_stale_ttl_seconds.get(category.value, default.stale_ttl)
        # A longer TTL alone must not leave a stale window shorter than the fresh one.
        policies[category] = CachePolicy(ttl=ttl, stale_ttl=max(stale, ttl))
    return policies
