"""A small FastAPI app wired like quantdesk's: lifespan builds the limiter, pure ASGI
middleware, the real AppError handler, and a header-driven stand-in for `current_principal`.

Callers pick who they are with headers: `X-Test-User: <id>:<role>` and `X-Test-Key: <id>`;
without them they are anonymous guests keyed by IP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import Response

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import ROLE_SCOPES, Role
from quantdesk.app import _app_error
from quantdesk.errors import AppError
from quantdesk.http.edge import EdgeMiddleware
from quantdesk.ratelimit import (
    RateLimitConfig,
    RateLimiter,
    document_rate_limits,
    rate_limit,
)
from quantdesk.ratelimit.dependencies import STATE_CLIENT_IP
from quantdesk.ratelimit.policies import build_policies, build_tiers


async def header_principal(request: Request) -> Principal:
    ip = request.scope.get("state", {}).get(STATE_CLIENT_IP) or "unknown"
    user = request.headers.get("x-test-user")
    if not user:
        return Principal.anonymous(ip)
    user_id, _, role_name = user.partition(":")
    role = Role(role_name or "user")
    key = request.headers.get("x-test-key")
    return Principal(
        user_id=int(user_id),
        role=role,
        scopes=ROLE_SCOPES[role],
        client_ip=ip,
        api_key_id=int(key) if key else None,
    )


def limited(policy: str | None = None) -> Any:
    return Depends(rate_limit(policy, principal=header_principal))


def small_config(**overrides: Any) -> RateLimitConfig:
    """Small limits so tests stay fast; any RateLimitConfig field can be overridden."""
    values: dict[str, Any] = {
        "tiers": build_tiers({Role.GUEST: "5/minute", Role.USER: "10/minute"}),
        "policies": build_policies(
            {
                "signals-refresh": "2 per 5 minutes",
                "backtests-create": "1/hour",
                "signals-historic": "3/minute",
                "orders-create": "3/minute",
            }
        ),
        "redis_retry_seconds": 0.2,
        "redis_timeout_seconds": 0.5,
    }
    values.update(overrides)
    return RateLimitConfig(**values)


def make_app(config: RateLimitConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.rate_limiter = RateLimiter(config)
        try:
            yield
        finally:
            await app.state.rate_limiter.aclose()

    app = FastAPI(lifespan=lifespan)
    app.add_exception_handler(AppError, _app_error)
    api = APIRouter(prefix="/api", dependencies=[limited()])

    @api.get("/market")
    async def market() -> dict[str, str]:
        """Quotes."""
        return {"price": "1.0"}

    @api.get("/raw")
    async def raw() -> Response:
        return Response(b"\x00\x01raw", media_type="application/octet-stream")

    # Nested like quantdesk's api_router -> domain routers.
    signals = APIRouter(prefix="/signals")

    @signals.get("/historic", dependencies=[limited("signals-historic")])
    async def historic() -> dict[str, str]:
        return {"ok": "historic"}

    @signals.post("/refresh", dependencies=[limited("signals-refresh")])
    async def refresh() -> dict[str, str]:
        return {"ok": "refresh"}

    api.include_router(signals)

    @api.post("/backtests", dependencies=[limited("backtests-create")])
    async def backtests() -> dict[str, str]:
        return {"ok": "backtest"}

    @api.post("/orders", dependencies=[limited("orders-create")])
    async def orders() -> dict[str, str]:
        return {"ok": "order"}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(b"# metrics\n", media_type="text/plain")

    app.include_router(api)
    document_rate_limits(app, config)
    app.add_middleware(EdgeMiddleware)
    return app


def client_for(app: FastAPI, peer: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def user(user_id: int, role: str = "user", key: int | None = None) -> dict[str, str]:
    headers = {"X-Test-User": f"{user_id}:{role}"}
    if key is not None:
        headers["X-Test-Key"] = str(key)
    return headers


@asynccontextmanager
async def serving(
    config: RateLimitConfig, peer: str = "127.0.0.1"
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = make_app(config)
    async with LifespanManager(app), client_for(app, peer) as http:
        yield app, http


def limiter_of(app: FastAPI) -> RateLimiter:
    limiter: RateLimiter = app.state.rate_limiter
    return limiter
