"""Response and computation cache: memory by default, Redis in distributed mode.

Entry points: `build_cache(settings)` (the lifespan puts it on `AppState.cache` and
`aclose()`s it at shutdown), `Cache.get_or_compute`, `Cache.invalidate_tags(new_bars_tags(symbol))`
after new bars are stored, and `CacheDep` / `set_cache_header` in `infra/cache/dependencies.py`
(the admin router is `ops/cache_endpoints.py`).
"""

from quantdesk.infra.cache.cache import (
    Cache,
    CacheStats,
    CacheStatus,
    CategoryStats,
    build_cache,
    install_cache,
    installed_cache,
)
from quantdesk.infra.cache.categories import (
    DEFAULT_POLICIES,
    INVALIDATED_BY_NEW_BARS,
    CacheCategory,
    CachePolicy,
    category_tag,
    new_bars_tags,
    policies_from_settings,
    symbol_tag,
)
from quantdesk.infra.cache.memory import MemoryBackend
from quantdesk.infra.cache.redis_backend import RedisBackend

__all__ = [
    "DEFAULT_POLICIES",
    "INVALIDATED_BY_NEW_BARS",
    "Cache",
    "CacheCategory",
    "CachePolicy",
    "CacheStats",
    "CacheStatus",
    "CategoryStats",
    "MemoryBackend",
    "RedisBackend",
    "build_cache",
    "category_tag",
    "install_cache",
    "installed_cache",
    "new_bars_tags",
    "policies_from_settings",
    "symbol_tag",
]
