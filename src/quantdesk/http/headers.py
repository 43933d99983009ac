"""Response security headers and Host checking, as pure ASGI middleware.

Header choices:

* `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` on API responses: JSON
  needs no scripts, styles or frames, so a response rendered by a browser by mistake can do
  nothing. The interactive docs (`/docs`, `/redoc`) load scripts and styles, so there only
  framing is forbidden.
* `Referrer-Policy: no-referrer`: nothing here needs to know where a request came from, and the
  browser default (`strict-origin-when-cross-origin`) would still send our origin to any site
  the docs link to; an API gains nothing from leaking even that.
* `Permissions-Policy`: the powerful features a page could ask for, all denied.
* `Strict-Transport-Security` only when enabled (production behind TLS): sent over plain HTTP on
  a laptop it would pin `localhost` to HTTPS in the browser for two years.
* `Cache-Control: no-store` on answers to requests carrying credentials, so no shared or browser
  cache keeps a user's data; the app's own `Cache-Control` wins when it set one.

A header the app already set is never replaced or duplicated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from quantdesk.http.problems import scope_problem
from quantdesk.http.response_headers import Headers, with_response_headers

HSTS_MAX_AGE = 63_072_000  # two years, the preload list's minimum is one
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")

_CACHE_CONTROL = b"cache-control"
_CSP = b"content-security-policy"


def _encode(headers: Iterable[tuple[str, str]]) -> Headers:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class SecurityHeadersMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool = False,
        hsts_max_age: int = HSTS_MAX_AGE,
        docs_paths: Sequence[str] = DOCS_PATHS,
    ) -> None:
        self.app = app
        self.docs_paths = tuple(path.rstrip("/") for path in docs_paths)
        common = [
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "no-referrer"),
            ("Permissions-Policy", PERMISSIONS_POLICY),
        ]
        if hsts:
            common.append(
                ("Strict-Transport-Security", f"max-age={hsts_max_age}; includeSubDomains")
            )
        self.api_headers = _encode([*common, ("Content-Security-Policy", API_CSP)])
        self.docs_headers = _encode([*common, ("Content-Security-Policy", DOCS_CSP)])

    def is_docs_path(self, path: str) -> bool:
        return any(path == docs or path.startswith(docs + "/") for docs in self.docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.docs_headers if self.is_docs_path(scope["path"]) else self.api_headers
        if any(name in CREDENTIAL_HEADERS for name, _ in scope["headers"]):
            extra = [*extra, (_CACHE_CONTROL, b"no-store")]

        def add_headers(headers: Headers) -> None:
            present = {name.lower() for name, _ in headers}
            headers.extend(header for header in extra if header[0] not in present)

        await self.app(scope, receive, with_response_headers(scope, send, add_headers))


def host_name(host_header: str) -> str:
    """`Example.COM:8443` -> `example.com`; `[::1]:8000` -> `[::1]`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    return host.split(":", 1)[0]


class TrustedHostMiddleware:
    """400 problem+json (HTTP) or close with 1008 (WebSocket) for a Host not in `allowed_hosts`.

    Patterns: an exact name, `*.example.com` (subdomains only, not the apex), or `*` (any).
    Starlette's own middleware answers in plain text, not the API's problem+json.
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        patterns = [pattern.strip().lower() for pattern in allowed_hosts if pattern.strip()]
        if not patterns:
            raise ValueError("allowed_hosts is empty: no request could ever be answered")
        for pattern in patterns:
            if "*" in pattern and pattern != "*" and not pattern.startswith("*."):
                raise ValueError(f"host pattern {pattern!r}: '*' may only lead, as '*.domain'")
        self.allow_any = "*" in patterns
        self.exact = frozenset(p for p in patterns if not p.startswith("*"))
        self.suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))

    def is_allowed(self, host: str) -> bool:
        if self.allow_any:
            return True
        return host in self.exact or (bool(host) and host.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allow_any:
            await self.app(scope, receive, send)
            return
        raw = next((value for name, value in scope["headers"] if name == b"host"), b"")
        if self.is_allowed(host_name(raw.decode("latin-1"))):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            response = scope_problem(
                scope,
                status=400,
                code="invalid-host",
                title="Bad Request",
                detail="the Host header does not name this service",
            )
            await response(scope, receive, send)
