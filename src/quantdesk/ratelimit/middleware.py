"""Rate-limit middleware, pure ASGI (BaseHTTPMiddleware costs ~3.5x throughput).

Before anything else runs: resolve the client IP (X-Forwarded-For only from trusted proxies),
store it on `scope["state"]["client_ip"]`, and answer 403 to blocklisted or abuse-blocked
IPs. On the way out: add the RateLimit headers for the decisions the `rate_limit` dependency
left on `scope["state"]`, whatever kind of Response the endpoint returned.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from quantdesk.errors import problem_body, problem_response
from quantdesk.http.response_headers import Headers, with_response_headers
from quantdesk.kit.clientip import client_ip
from quantdesk.observability.logging import get_logger
from quantdesk.ratelimit.abuse import Block
from quantdesk.ratelimit.dependencies import STATE_CLIENT_IP, STATE_DECISIONS
from quantdesk.ratelimit.limiter import RateLimiter, binding_decision, rate_limit_headers

log = get_logger("quantdesk.security")


def _limiter(scope: Scope) -> RateLimiter | None:
    app = scope.get("app")
    limiter = getattr(getattr(app, "state", None), "rate_limiter", None)
    return limiter if isinstance(limiter, RateLimiter) and limiter.enabled else None


def _replace_headers(headers: Headers, extra: dict[str, str]) -> None:
    names = {name.lower().encode("latin-1") for name in extra}
    headers[:] = [(k, v) for k, v in headers if k.lower() not in names]
    headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()
    )


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        limiter = _limiter(scope)
        if limiter is None:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        ip = client_ip(scope, limiter.config.trusted_proxies)
        state[STATE_CLIENT_IP] = ip
        block = await limiter.abuse.check(ip)
        if block is not None:
            log.info(
                "security.request_blocked",
                ip=ip,
                reason=block.reason,
                method=scope.get("method"),
                path=scope.get("path"),
            )
            await self._refuse(scope, receive, send, block, state)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        def add_headers(headers: Headers) -> None:
            decision = binding_decision(state.get(STATE_DECISIONS) or ())
            if decision is not None:
                _replace_headers(headers, rate_limit_headers(decision))

        await self.app(scope, receive, with_response_headers(scope, send, add_headers))

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, block: Block, state: dict[str, Any]
    ) -> None:
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
        request_id = state.get("request_id")
        body = problem_body(
            status=403,
            code="ip-blocked",
            title="Forbidden",
            detail=detail,
            instance=scope.get("path"),
            request_id=request_id if isinstance(request_id, str) else None,
        )
        headers = {"Retry-After": str(block.retry_after)} if block.retry_after else None
        response = problem_response(body, headers)
        await response(scope, receive, send)
