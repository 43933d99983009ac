"""`GET /metrics`: the Prometheus exposition of observability/metrics.py, public or behind a
bearer token (`QUANTDESK_METRICS_TOKEN`)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from quantdesk.auth.dependencies import OPEN
from quantdesk.config import Settings
from quantdesk.errors import Unauthorized
from quantdesk.observability.metrics import exposition


def _token_guard(expected: bytes) -> Callable[[Request], Awaitable[None]]:
    async def metrics_token(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise Unauthorized("/metrics needs 'Authorization: Bearer <metrics token>'")

    # Read by the route-policy test: the route is guarded, by a token rather than a scope.
    metrics_token.__quantdesk_scope__ = "metrics-token"  # type: ignore[attr-defined]
    return metrics_token


def metrics_router(settings: Settings) -> APIRouter:
    """`GET /metrics` (outside /api/v1): public, or behind `metrics_token`; no route at all
    when `metrics_enabled` is off."""
    router = APIRouter(tags=["observability"])
    if not settings.metrics_enabled:
        return router
    token = settings.metrics_token
    guard = OPEN if token is None else Depends(_token_guard(token.get_secret_value().encode()))

    @router.get(
        "/metrics",
        dependencies=[guard],
        response_class=Response,
        summary="Prometheus metrics (text exposition format)",
    )
    async def metrics() -> Response:
        # Multiprocess collection reads files: keep it off the event loop.
        body = await run_in_threadpool(exposition)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
