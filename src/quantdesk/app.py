"""The ASGI application: create_app(), lifespan, middleware and error handlers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from quantdesk import __version__
from quantdesk.analytics.market.tasks import refresh_if_missing as refresh_market_if_missing
from quantdesk.api import include_api
from quantdesk.audit.service import audit_service
from quantdesk.auth.openapi import document_security
from quantdesk.auth.reset_page import router as reset_page_router
from quantdesk.auth.throttle import LoginThrottle
from quantdesk.config import Environment, Settings, get_settings
from quantdesk.db import Database
from quantdesk.errors import AppError, problem_body, problem_response
from quantdesk.http.docs import install_docs
from quantdesk.http.edge import EdgeMiddleware
from quantdesk.http.methods import allowed_methods
from quantdesk.http.openapi import document_problems
from quantdesk.http.problems import validation_errors
from quantdesk.infra.cache import build_cache, install_cache
from quantdesk.infra.events import MarketProgress, build_event_bus, install_event_bus
from quantdesk.infra.kernel_warmup import start_kernel_warmup
from quantdesk.infra.mail import mail_backend
from quantdesk.infra.state import state_store_from_settings
from quantdesk.jobs.lifecycle import job_runtime
from quantdesk.kit.app_state import AppState, app_state
from quantdesk.kit.pagination import configure_cursor_signing
from quantdesk.kit.routing import include_flat
from quantdesk.marketdata.providers.registry import build_provider_runtime, install_provider_runtime
from quantdesk.marketdata.replay.service import ReplayManager
from quantdesk.observability.logging import configure_logging, get_logger
from quantdesk.observability.metrics import instrument_engine, worker_exit
from quantdesk.ops.endpoints import router as health_router
from quantdesk.ops.metrics_endpoint import metrics_router
from quantdesk.ops.monitor import performance_monitor
from quantdesk.portfolio.desk import Desk
from quantdesk.portfolio.order_batch import PlacementBatcher
from quantdesk.ratelimit import RateLimitConfig, RateLimiter, document_rate_limits
from quantdesk.realtime.endpoints import alias_router as realtime_alias_router
from quantdesk.realtime.hub import Hub, account_owner_lookup
from quantdesk.tasks import load_tasks
from quantdesk.web.routes import install_web
from quantdesk.webhooks import outbox as webhook_outbox
from quantdesk.webhooks.dispatcher import Dispatcher as WebhookDispatcher

log = get_logger("quantdesk.app")

DESCRIPTION = """
Self-hosted market intelligence: market data, indicators, signals and backtests.

* Errors are RFC 9457 `application/problem+json` with a `request_id`.
* Lists are `{"data": [...], "meta": {"next_cursor": ..., "count": ...}}` (cursor pagination).
* Times are UTC ISO-8601 with `Z`, except columnar bars, which follow the charting-library
  convention of Unix seconds (ask `time_format=iso` for strings).
"""


def _audit_ip_block(db: Database, settings: Settings) -> Callable[[str], Awaitable[None]]:
    async def record(ip: str) -> None:
        # Its own unit of work: the request that triggered the block is answered 429 and
        # rolled back, the security event must stay.
        async with db.session() as session:
            await audit_service.record(
                session,
                action="ratelimit.ip_blocked",
                outcome="denied",
                ip=ip,
                details={"block_seconds": settings.abuse_block_seconds},
            )

    return record


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app_state(app)
    settings = state.settings
    state.db = db = Database(settings)
    state.rate_limiter = limiter = RateLimiter(state.rate_limit_config)
    limiter.on_block = _audit_ip_block(db, settings)
    state.login_throttle = LoginThrottle(settings, limiter.storage)
    state.mail = mail_backend(settings)
    state.cache = build_cache(settings)
    install_cache(state.cache)
    state.events = build_event_bus(settings)  # the internal event bus (infra/events)
    install_event_bus(state.events)  # in-process jobs publish the bars and quotes they store
    state.market_progress = MarketProgress()
    state.replay = ReplayManager(settings, db, state.events, state.market_progress)
    state.desk = None
    if settings.paper_desk_enabled:  # fills paper orders and evaluates price alerts
        state.desk = Desk(db, settings, state.events, state.market_progress)
        await state.desk.start()
    # WebSocket streams (quantdesk.realtime): one hub per process, fed by the bus.
    state.realtime = Hub(state.events, settings, account_owner_lookup(db))
    await state.realtime.start()
    # Order placements of this process, written in group-committed batches.
    state.placements = PlacementBatcher(db, settings, state.events)
    # Webhook deliveries (quantdesk.webhooks): the outbox's worker, in every serving process.
    webhook_outbox.configure(settings)
    state.webhooks = None
    if settings.webhooks_dispatcher_enabled:
        state.webhooks = WebhookDispatcher(db, settings, state.mail)
        await state.webhooks.start()
    providers = build_provider_runtime(settings, state_store_from_settings(settings), database=db)
    state.providers = providers
    install_provider_runtime(providers)  # in-process jobs share its breakers and budgets
    if settings.metrics_enabled:
        instrument_engine(db.engine.sync_engine)
    if settings.gc_freeze_at_startup:
        # Everything built so far (imports, settings, engines) lives as long as the process:
        # moved out of the collector's sight, it is not rescanned by every full collection,
        # which otherwise shows up as multi-100 ms pauses in the latency tail.
        gc.collect()
        gc.freeze()
    # Off the first indicator/backtest/signal request: load every numba kernel (a thread).
    state.kernel_warmup = start_kernel_warmup(settings)
    log.info(
        "startup",
        environment=settings.environment.value,
        database=db.dialect,
        version=__version__,
    )
    try:
        # Jobs stop before the database closes: running jobs finish or are recorded as stopped.
        # The monitor (off unless `quantdesk serve` turns it on) stops first.
        async with (
            job_runtime(settings, db) as state.jobs,
            performance_monitor(settings, db, mail=state.mail) as state.monitor,
        ):
            if state.jobs.scheduler is not None:  # a serving process: build a missing overview
                await refresh_market_if_missing(db, state.jobs.runner)
            yield
    finally:
        install_provider_runtime(None)
        await providers.aclose()  # the runtime built here, even if a test swapped it
        await providers.store.aclose()
        install_cache(None)
        await state.cache.aclose()
        await state.replay.aclose()  # a running replay publishes `stopped` first
        await state.placements.aclose()  # placements already queued are written
        if state.desk is not None:
            await state.desk.stop()
        if state.webhooks is not None:
            await state.webhooks.stop()  # rows it was sending stay leased, then re-sent
        await state.realtime.stop()
        install_event_bus(None)
        await state.events.aclose()
        await limiter.aclose()
        await db.dispose()
        worker_exit()  # multiprocess metrics: this worker's live gauges go with it
        log.info("shutdown")


def _request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if exc.status >= 500:
        log.error("service error", code=exc.code, detail=exc.detail)
    body = problem_body(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        instance=request.url.path,
        request_id=_request_id(request),
        errors=exc.errors,
    )
    return problem_response(body, exc.headers)


async def _request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors(), getattr(exc, "body", None))
    detail = "; ".join(f"{e['field']}: {e['msg']}" for e in errors[:5])
    body = problem_body(
        status=422,
        code="validation-error",
        title="Unprocessable Content",
        detail=detail or "the request is not valid",
        instance=request.url.path,
        request_id=_request_id(request),
        errors=errors,
    )
    return problem_response(body)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    codes = {404: "not-found", 405: "method-not-allowed"}
    detail = exc.detail if isinstance(exc.detail, str) else None
    if status == 404 and detail == "Not Found":
        detail = f"no route matches {request.method} {request.url.path}"
    headers = dict(exc.headers or {})
    if status == 405:
        # Every route of the path counts, not only the first one Starlette tried.
        allowed = allowed_methods(request.app.router.routes, request.scope)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=headers)
        detail = f"{request.method} is not allowed on {request.url.path}"
    body = problem_body(
        status=status,
        code=codes.get(status, f"http-{status}"),
        detail=detail,
        instance=request.url.path,
        request_id=_request_id(request),
    )
    return problem_response(body, headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check()
    configure_logging(settings)
    load_tasks()  # the job catalogue, before the lifespan's runner looks a job up
    app = FastAPI(
        title="quantdesk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served offline by quantdesk.http.docs, not from FastAPI's CDN-loading pages.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        telemetry=None
        if settings.opentelemetry_enabled
        else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state = AppState(settings, RateLimitConfig.from_settings(settings))
    configure_cursor_signing(settings.secret_key.get_secret_value())
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Copied into one flat route table: FastAPI's lazy include_router makes every route tried
    # on the way several times dearer (quantdesk.kit.routing). The API first (its hottest
    # reads lead it), then the probes, which are called a few times a minute.
    include_api(app)
    include_flat(app.router, health_router)
    app.include_router(realtime_alias_router)  # /ws/market/{symbol}, /ws/trading, /ws/news
    include_flat(app.router, reset_page_router)  # the page password-reset mails link to
    include_flat(app.router, metrics_router(settings))
    install_web(app)  # the dashboard at /app (quantdesk.web)
    if settings.docs_enabled:
        install_docs(app, "/openapi.json")
    # FastAPI registers its docs pages first; behind everything else they cost no API request.
    app.router.routes.sort(key=lambda route: not isinstance(route, APIRoute))
    document_rate_limits(app, app_state(app).rate_limit_config)
    document_security(app)
    document_problems(app)
    # Request id, trusted hosts, CORS, IP blocks, body limits, security and rate-limit
    # headers, the 500 answer, access log and request metrics: one pure-ASGI layer
    # (quantdesk.http.edge; BaseHTTPMiddleware would cost ~3.5x throughput).
    production = settings.environment is Environment.PRODUCTION
    app.add_middleware(
        EdgeMiddleware,
        hsts=production,
        allowed_hosts=settings.allowed_hosts if production else None,
        cors_origins=settings.cors_origins,
        record_metrics=settings.metrics_enabled,
        body_limits={
            "max_body_bytes": settings.max_request_body_bytes,
            "max_json_depth": settings.max_json_depth,
            "max_json_array_length": settings.max_json_array_length,
        },
        max_header_bytes=settings.max_request_header_bytes,
        max_head_bytes=settings.max_request_head_bytes,
    )
    return app
