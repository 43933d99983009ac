"""Every response carries the security headers; unknown Hosts are refused in problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from quantdesk.errors import ServiceUnavailable
from quantdesk.http.edge import EdgeMiddleware
from quantdesk.http.headers import DOCS_CSP, TrustedHosts, host_name
from tests.support.http import assert_exact_problem as assert_problem
from tests.support.http import client_for

API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=63072000; includeSubDomains"


def make_app(**options: Any) -> FastAPI:
    """The edge as create_app() wires it, around a tiny app."""
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/cached")
    async def cached() -> Response:
        return JSONResponse(
            {}, headers={"Cache-Control": "public, max-age=60", "X-Frame-Options": "SAMEORIGIN"}
        )

    @app.get("/explode")
    async def explode() -> None:
        raise RuntimeError("boom")

    @app.get("/unavailable")
    async def unavailable() -> None:
        raise ServiceUnavailable("feed down")

    async def handle_app_error(_: object, exc: Exception) -> Response:
        assert isinstance(exc, ServiceUnavailable)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    app.add_exception_handler(ServiceUnavailable, handle_app_error)
    app.add_middleware(EdgeMiddleware, **options)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app()) as client:
        yield client


def assert_security_headers(response: httpx.Response, csp: str = API_CSP) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["content-security-policy"] == csp
    assert response.headers["referrer-policy"] == "no-referrer"
    if csp == API_CSP:  # a JSON answer is no document: it asks for no browser feature
        assert "permissions-policy" not in response.headers
    else:
        assert "camera=()" in response.headers["permissions-policy"]


@pytest.mark.parametrize(
    ("path", "status"), [("/ok", 200), ("/nowhere", 404), ("/unavailable", 503)]
)
async def test_security_headers_on_every_response(
    path: str, status: int, client: httpx.AsyncClient
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert_security_headers(response)


async def test_security_headers_on_an_unhandled_error_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/explode")
    assert_problem(response, 500, "internal-error")
    assert_security_headers(response)


async def test_headers_the_app_set_are_kept_and_not_duplicated(client: httpx.AsyncClient) -> None:
    response = await client.get("/cached", headers={"Authorization": "Bearer t"})
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers.get_list("cache-control") == ["public, max-age=60"]


@pytest.mark.parametrize("credential", ["Authorization", "X-API-Key"])
async def test_authenticated_requests_get_no_store(
    credential: str, client: httpx.AsyncClient
) -> None:
    response = await client.get("/ok", headers={credential: "secret"})
    assert response.headers["cache-control"] == "no-store"


async def test_anonymous_requests_are_left_cacheable(client: httpx.AsyncClient) -> None:
    response = await client.get("/ok")
    assert "cache-control" not in response.headers


async def test_hsts_is_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/ok")
    assert "strict-transport-security" not in response.headers


async def test_hsts_when_enabled() -> None:
    async with client_for(make_app(hsts=True)) as client:
        response = await client.get("/ok")
    assert response.headers["strict-transport-security"] == HSTS


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect", "/redoc"])
async def test_docs_pages_allow_only_same_origin_assets(
    path: str, client: httpx.AsyncClient
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert_security_headers(response, csp=DOCS_CSP)
    assert "script-src 'self';" in DOCS_CSP and "frame-ancestors 'none'" in DOCS_CSP


async def test_docs_relaxation_is_by_path_segment(client: httpx.AsyncClient) -> None:
    response = await client.get("/docsfoo")
    assert response.headers["content-security-policy"] == API_CSP


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def never() -> dict[str, Any]:
        raise AssertionError

    async def nowhere(message: Any) -> None:
        raise AssertionError

    await EdgeMiddleware(app)({"type": "lifespan"}, never, nowhere)
    assert seen == ["lifespan"]


# ---- Trusted hosts ------------------------------------------------------------------------------


def make_host_app(*allowed: str) -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(EdgeMiddleware, allowed_hosts=allowed)
    return app


@pytest.mark.parametrize(
    "host", ["api.example.com", "API.example.com:8443", "eu.apps.example.com", "[::1]:8000"]
)
async def test_allowed_hosts_are_served(host: str) -> None:
    app = make_host_app("api.example.com", "*.apps.example.com", "[::1]")
    async with client_for(app) as client:
        response = await client.get("/ok", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "apps.example.com", "api.example.com.evil"])
async def test_other_hosts_are_400_problem(host: str) -> None:
    app = make_host_app("api.example.com", "*.apps.example.com")
    async with client_for(app) as client:
        response = await client.get("/ok", headers={"Host": host})
    body = assert_problem(response, 400, "invalid-host")
    assert host not in str(body["detail"])


async def test_wildcard_allows_any_host() -> None:
    async with client_for(make_host_app("*")) as client:
        response = await client.get("/ok", headers={"Host": "anything.test"})
    assert response.status_code == 200


async def test_untrusted_websocket_is_closed_with_policy_violation() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("must not run")

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        sent.append(message)

    middleware = EdgeMiddleware(app, allowed_hosts=["api.example.com"])
    await middleware({"type": "websocket", "headers": [(b"host", b"evil")]}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.parametrize("patterns", [[], [" "], ["api.*.com"], ["*example.com"]])
def test_bad_host_patterns_are_refused(patterns: list[str]) -> None:
    with pytest.raises(ValueError, match=r"allowed_hosts|may only lead"):
        TrustedHosts(patterns)


@pytest.mark.parametrize(
    ("header", "name"),
    [("Example.COM:8443", "example.com"), ("[::1]:8000", "[::1]"), ("", ""), ("[::1", "[::1")],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


async def test_cors_answers_only_configured_origins() -> None:
    allowed, other = "https://desk.example", "https://evil.example"
    async with client_for(make_app(cors_origins=[allowed])) as client:
        simple = await client.get("/ok", headers={"Origin": allowed})
        assert simple.headers["access-control-allow-origin"] == allowed
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
        refused = await client.get("/ok", headers={"Origin": other})
        assert "access-control-allow-origin" not in refused.headers
        preflight = {"Origin": allowed, "Access-Control-Request-Method": "POST"}
        ok = await client.options("/ok", headers=preflight)
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed
        bad = await client.options("/ok", headers={**preflight, "Origin": other})
        assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
        # A cache must not hand the no-Origin answer to a browser asking cross-origin.
        assert (await client.get("/ok")).headers["vary"] == "Origin"


async def test_no_vary_when_no_origin_is_allowed(client: httpx.AsyncClient) -> None:
    # Without CORS origins no answer depends on Origin, so none says it varies by it.
    assert "vary" not in (await client.get("/ok")).headers
