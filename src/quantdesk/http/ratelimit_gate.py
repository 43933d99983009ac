"""The rate limiter's part of the edge (quantdesk.http.edge), before and after the app runs.

Before: resolve the client IP (X-Forwarded-For only from trusted proxies), store it on
`scope["state"]["client_ip"]`, and refuse blocklisted IPs, and abuse-blocked IPs' anonymous
requests (403 problem+json, or a WebSocket closed with 1008) before a body is read. Abuse
blocks never apply to requests carrying credentials (they answer to their own limits) nor to
the health probes and `/metrics` (`EXEMPT_PATHS`). After: the RateLimit headers for the
decisions the `rate_limit` dependencies left on `scope["state"]`, whatever kind of Response
the endpoint returned.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send

from quantdesk.http.headers import Headers
from quantdesk.http.problems import scope_problem
from quantdesk.kit.clientip import client_ip
from quantdesk.observability.logging import get_logger
from quantdesk.ratelimit.abuse import Block
from quantdesk.ratelimit.dependencies import STATE_CLIENT_IP, STATE_DECISIONS
from quantdesk.ratelimit.limiter import (
    RateLimiter,
    binding_decision,
    encoded_rate_limit_headers,
)

log = get_logger("quantdesk.security")


def active_limiter(scope: Scope) -> RateLimiter | None:
    """The app's rate limiter (`app.state.rate_limiter`) when it is built and enabled."""
    limiter = getattr(getattr(scope.get("app"), "state", None), "rate_limiter", None)
    return limiter if isinstance(limiter, RateLimiter) and limiter.enabled else None


# Operational routes an abuse block never refuses: probes and scrapers share addresses with
# whatever else runs on a host, and a blocked probe restarts a healthy service.
EXEMPT_PATHS = ("/health", "/metrics")


def exempt_from_abuse_blocks(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return any(path == exempt or path.startswith(exempt + "/") for exempt in EXEMPT_PATHS)


async def blocked(
    limiter: RateLimiter, scope: Scope, state: dict[str, Any], *, anonymous: bool = True
) -> Block | None:
    """Resolve and record the client IP; the block that refuses it, if any (logged).

    `anonymous`: the request carries no credentials, so an abuse block applies to it.
    """
    ip = client_ip(scope, limiter.config.trusted_proxies)
    state[STATE_CLIENT_IP] = ip
    block = await limiter.abuse.check(ip, temporary=anonymous)
    if block is not None and block.reason == "abuse" and exempt_from_abuse_blocks(scope):
        return None  # checked only once blocked: ordinary requests pay nothing for it
    if block is not None:
        log.info(
            "security.request_blocked",
            ip=ip,
            reason=block.reason,
            method=scope.get("method"),
            path=scope.get("path"),
        )
    return block


async def refuse(scope: Scope, receive: Receive, send: Send, block: Block) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": "blocked"})
        return
    if block.reason == "blocklist":
        detail = "requests from this address are not accepted"
    else:
        detail = (
            "this address is temporarily blocked after repeated rate-limit violations; "
            f"retry in {block.retry_after} s"
        )
    headers = {"Retry-After": str(block.retry_after)} if block.retry_after else None
    response = scope_problem(
        scope, status=403, code="ip-blocked", title="Forbidden", detail=detail, headers=headers
    )
    await response(scope, receive, send)


def decision_headers(state: dict[str, Any]) -> Headers | None:
    """The encoded rate-limit headers of the binding decision, or None when none was made."""
    decisions = state.get(STATE_DECISIONS)
    if not decisions:
        return None
    decision = decisions[0] if len(decisions) == 1 else binding_decision(decisions)
    return None if decision is None else encoded_rate_limit_headers(decision)
