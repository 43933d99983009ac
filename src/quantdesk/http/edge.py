"""The edge: everything every request needs before and after the app, in one pure-ASGI layer.

One layer instead of six, because each layer costs every request a call frame, a `send`
wrapper and a copy of the start message: with six of them the middleware stack cost more
than the whole bare route. In order, per request:

1. bind a request id (a sane incoming `X-Request-ID`, else a new one) to the scope and to
   every log line; refuse headers over their size limits (431);
2. refuse a `Host` this service does not answer to (production: `TrustedHosts`, 400);
3. requests carrying `Origin` go through Starlette's CORS middleware (preflights answered
   there); the others only get `Vary: Origin`;
4. resolve the client IP and refuse blocklisted ones, and abuse-blocked ones' anonymous
   requests (`ratelimit.gate`, 403), inside CORS so a browser can read the refusal;
5. run the app, through the request-body limits (`http.limits`) when the request has a body;
6. on the way out, in one pass over the response headers: the request id, the security
   headers (`http.headers`), the rate-limit headers of the decisions the app's `rate_limit`
   dependencies made, and `Vary: Origin` when CORS origins are configured (only then can an
   answer differ by Origin);
7. anything unhandled becomes a problem+json 500 naming the request id and nothing else (a
   database lock wait that ran out, a 503 with `Retry-After`);
   then one access-log line and the request metrics (method, route template, status).

Nothing here is `BaseHTTPMiddleware` (one costs ~3.5x throughput).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quantdesk.errors import field_error, problem_body, problem_response
from quantdesk.http import db_outage
from quantdesk.http import ratelimit_gate as gate
from quantdesk.http.headers import CREDENTIAL_HEADERS, Headers, SecurityHeaders, TrustedHosts
from quantdesk.http.limits import RequestLimitsMiddleware
from quantdesk.http.problems import scope_problem
from quantdesk.observability.logging import get_logger, request_id_var
from quantdesk.observability.metrics import RequestMetrics
from quantdesk.ratelimit.limiter import RATE_LIMIT_HEADER_NAMES

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
_ORIGIN = b"origin"
_HOST = b"host"
# A request has a body only when it says so (HTTP/1.1): the others skip the body limits.
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})
_VARY = b"vary"
# Every header the edge may own: the request id and the rate-limit headers.
_EDGE_HEADER_NAMES = frozenset({REQUEST_ID_HEADER, *RATE_LIMIT_HEADER_NAMES})
_STATE_HAS_BODY = "has_body"
# Request header limits (431): one header (name and value), and all of them together. Below
# h11's own ~64 KiB limit on the whole request head, so they are what a client meets.
DEFAULT_MAX_HEADER_BYTES = 16_384
DEFAULT_MAX_HEAD_BYTES = 32_768
DATABASE_BUSY_RETRY_AFTER = 2  # seconds; 503 when a database lock wait runs out
_BUSY_DETAIL = "The database is busy with other writes; retry shortly."
_UNREACHABLE_DETAIL = db_outage.UNAVAILABLE_DETAIL
_UNEXPECTED_DETAIL = "The server hit an unexpected error; quote the request_id to report it."
# Set when the request carries credentials: abuse blocks are for anonymous traffic only.
_STATE_CREDENTIALS = "has_credentials"
ACCESS_LOGGER = "quantdesk.access"
log = get_logger(ACCESS_LOGGER)
_access_level = logging.getLogger(ACCESS_LOGGER)

CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-API-Key",
    "X-Request-ID",
    "Idempotency-Key",
)
CORS_EXPOSED_HEADERS = (
    "X-Request-ID",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id() -> str:
    # An identifier, not a secret: the process PRNG, not a urandom syscall per request.
    return f"{random.getrandbits(128):032x}"


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool = False,
        allowed_hosts: Sequence[str] | None = None,
        cors_origins: Sequence[str] = (),
        record_metrics: bool = False,
        body_limits: Mapping[str, Any] | None = None,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES,
    ) -> None:
        if not 0 < max_header_bytes <= max_head_bytes:
            raise ValueError("header limits: 0 < max_header_bytes <= max_head_bytes")
        self.app = app
        self.max_header_bytes = max_header_bytes
        self.max_head_bytes = max_head_bytes
        # Requests with a body go through the body limits (413/415/422), inside CORS so a
        # browser can read the refusal; the others skip that layer altogether.
        self.app_with_body: ASGIApp = RequestLimitsMiddleware(app, **(body_limits or {}))
        self.security = SecurityHeaders(hsts=hsts)
        self.trusted_hosts = TrustedHosts(allowed_hosts) if allowed_hosts is not None else None
        self.metrics = RequestMetrics() if record_metrics else None
        self.vary_origin = bool(cors_origins)
        self.cors = CORSMiddleware(
            self._guarded,
            allow_origins=cors_origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                await self._websocket(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        outer_root_path = scope.get("root_path", "")
        # One pass over the request headers for everything the edge needs from them.
        request_id: str | None = None
        seen_request_id = origin = credentials = has_body = False
        host = b""
        size = 0  # request header bytes: one addition per header, judged after the loop
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            if name == REQUEST_ID_HEADER and not seen_request_id:
                seen_request_id = True
                request_id = value.decode() if _VALID_REQUEST_ID.match(value) else None
            elif name == _ORIGIN:
                origin = True
            elif name in CREDENTIAL_HEADERS and value:
                credentials = True
            elif name == _HOST:
                host = value
            elif name in _BODY_HEADERS:
                has_body = True
        state: dict[str, Any] = scope.setdefault("state", {})
        if has_body:
            state[_STATE_HAS_BODY] = True
        if credentials:
            state[_STATE_CREDENTIALS] = True
        request_id = request_id or new_request_id()
        encoded_id = request_id.encode()
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        security = self.security.for_request(scope["path"], credentials=credentials)
        vary = self.vary_origin and not origin  # with an Origin, CORS adds Vary itself
        status = 500
        response_started = False

        async def send_from_edge(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = _response_headers(
                    message.get("headers", ()), state, security, encoded_id, vary=vary
                )
                message = {**message, "headers": headers}
            await send(message)

        try:
            # No header can break its own limit while all of them together are within it.
            if size > self.max_header_bytes and (refusal := self._oversized(scope, size)):
                await refusal(scope, receive, send_from_edge)
            elif self.trusted_hosts is not None and not self.trusted_hosts.allows_header(host):
                await _invalid_host(scope, receive, send_from_edge)
            elif origin:
                await self.cors(scope, receive, send_from_edge)
            else:
                await self._guarded(scope, receive, send_from_edge)
        except Exception as exc:
            busy = database_busy(exc)
            unreachable = not busy and db_outage.database_unavailable(exc)
            if busy:
                # Busy, not broken: a write lock held past busy_timeout (SQLite).
                log.warning("database busy", path=scope.get("path"), method=scope.get("method"))
            elif unreachable:  # an outage (PostgreSQL down or restarting), not a bug
                where = {"path": scope.get("path"), "method": scope.get("method")}
                log.warning("database unavailable", error=f"{type(exc).__name__}", **where)
            else:
                log.exception("unhandled error", path=scope.get("path"), method=scope.get("method"))
            if response_started:
                raise
            status, code, title, detail = (
                (503, "database-busy", "Service Unavailable", _BUSY_DETAIL)
                if busy
                else (503, "database-unavailable", "Service Unavailable", _UNREACHABLE_DETAIL)
                if unreachable
                else (500, "internal-error", "Internal Server Error", _UNEXPECTED_DETAIL)
            )
            response = problem_response(
                problem_body(
                    status=status,
                    code=code,
                    title=title,
                    detail=detail,
                    instance=scope.get("path"),
                    request_id=request_id,
                ),
                {"Retry-After": str(DATABASE_BUSY_RETRY_AFTER)} if busy or unreachable else None,
            )
            await response(scope, receive, send_from_edge)
        finally:
            elapsed = time.perf_counter() - started
            # Checked first: structlog would build and then drop the event at WARNING and up.
            if _access_level.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    client=(scope.get("client") or ("-",))[0],
                )
            if self.metrics is not None:
                self.metrics.record(scope, outer_root_path, status, elapsed)
            request_id_var.reset(token)

    def _oversized(self, scope: Scope, size: int) -> Response | None:
        """431 problem+json when the request's headers break a limit, else None."""
        if size > self.max_head_bytes:
            detail = f"the request headers total {size} bytes; the limit is {self.max_head_bytes}"
            field = "headers"
        else:
            name = next(
                (n for n, v in scope["headers"] if len(n) + len(v) > self.max_header_bytes), None
            )
            if name is None:
                return None
            field = name.decode("latin-1")[:64]
            detail = f"the {field} header is larger than {self.max_header_bytes} bytes"
        return scope_problem(
            scope,
            status=431,
            code="header-fields-too-large",
            title="Request Header Fields Too Large",
            detail=detail,
            errors=[field_error(["header", field], detail, kind="too_large")],
            headers={"Connection": "close"},
        )

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, behind the IP blocklist and (for anonymous requests) abuse blocks."""
        limiter = gate.active_limiter(scope)
        if limiter is not None:
            state = scope["state"]
            anonymous = not state.get(_STATE_CREDENTIALS)
            block = await gate.blocked(limiter, scope, state, anonymous=anonymous)
            if block is not None:
                await gate.refuse(scope, receive, send, block)
                return
        app = self.app_with_body if scope["state"].get(_STATE_HAS_BODY) else self.app
        await app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        try:
            host = next((value for name, value in scope["headers"] if name == _HOST), b"")
            if self.trusted_hosts is not None and not self.trusted_hosts.allows_header(host):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self._guarded(scope, receive, send)
        finally:
            request_id_var.reset(token)


def database_busy(exc: BaseException) -> bool:
    """A lock wait that ran out (SQLite's `database is locked` after busy_timeout)."""
    if not isinstance(exc, OperationalError):
        return False
    message = str(exc.orig if exc.orig is not None else exc)
    return "database is locked" in message or "database table is locked" in message


async def _invalid_host(scope: Scope, receive: Receive, send: Send) -> None:
    response = scope_problem(
        scope,
        status=400,
        code="invalid-host",
        title="Bad Request",
        detail="the Host header does not name this service",
    )
    await response(scope, receive, send)


def _response_headers(
    app_headers: Any, state: dict[str, Any], security: Headers, request_id: bytes, *, vary: bool
) -> Headers:
    """The app's headers plus the edge's, in one pass. A header the app set wins, except the
    request id and rate-limit headers, which the edge owns."""
    headers: Headers = list(app_headers)
    present = {name.lower() for name, _ in headers}
    owned = [(REQUEST_ID_HEADER, request_id)]
    limits = gate.decision_headers(state)
    if limits is not None:
        owned.extend(limits)
    if not present.isdisjoint(_EDGE_HEADER_NAMES):  # rare: the app set one of them itself
        owned_names = {name for name, _ in owned}
        headers = [h for h in headers if h[0].lower() not in owned_names]
    headers.extend(owned)
    headers.extend(header for header in security if header[0] not in present)
    if vary:
        if _VARY in present:
            values = [value for name, value in headers if name.lower() == _VARY]
            headers = [h for h in headers if h[0].lower() != _VARY]
            headers.append((_VARY, b", ".join([*values, b"Origin"])))
        else:
            headers.append((_VARY, b"Origin"))
    return headers
