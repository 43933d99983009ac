"""Rate limiting: role tiers and endpoint policies (sliding-window counters, memory or Redis),
rate-limit headers, abuse blocking and the static IP blocklist. See policies.py for the one
policy table and window.py for the counting."""

from quantdesk.ratelimit.config import RateLimitConfig, RateLimitSettings
from quantdesk.ratelimit.dependencies import rate_limit, rate_limit_marker
from quantdesk.ratelimit.docs import document_rate_limits, limited_routes
from quantdesk.ratelimit.errors import RateLimited, RateLimitUnavailable
from quantdesk.ratelimit.limiter import Decision, RateLimiter, build_rate_limiter
from quantdesk.ratelimit.policies import POLICIES, KeyKind, Policy

__all__ = [
    "POLICIES",
    "Decision",
    "KeyKind",
    "Policy",
    "RateLimitConfig",
    "RateLimitSettings",
    "RateLimitUnavailable",
    "RateLimited",
    "RateLimiter",
    "build_rate_limiter",
    "document_rate_limits",
    "limited_routes",
    "rate_limit",
    "rate_limit_marker",
]
