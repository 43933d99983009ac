"""`/app` through the real app and edge (ASGI, no browser): redirects, files, client-side
routes, no way out of the static folder, content types, caching and the dashboard's CSP."""

from __future__ import annotations

import gzip
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Scope

from quantdesk.app import create_app
from quantdesk.http.headers import APP_CSP, PERMISSIONS_POLICY
from quantdesk.web import routes
from tests.support.http import assert_exact_problem, client_for
from tests.support.settings import make_settings, sqlite_url

INDEX = b"<!doctype html><html lang=en><title>t</title><script type=module src=js/main.js></script>"
MAIN_JS = b"import { x } from './lib.js';\n" + b"// padding\n" * 200  # over the gzip threshold
VENDOR_JS = b"export const createChart = () => 1;\n"


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "js").mkdir(parents=True)
    (root / "vendor" / "licenses" / "htm").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "app.css").write_text("body { margin: 0 }\n")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "manifest.json").write_text("{}")
    (root / "js" / "main.js").write_bytes(MAIN_JS)
    (root / "vendor" / "lightweight-charts.mjs").write_bytes(VENDOR_JS)
    (root / "vendor" / "licenses" / "htm" / "LICENSE").write_text("MIT\n")
    (root / "vendor" / ".stamp").write_text("{}")
    (tmp_path / "pyproject.toml").write_text("secret = true\n")  # beside static/, never served
    return root


@pytest.fixture
def web_app(static_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(routes, "STATIC_DIR", static_dir)
    return create_app(make_settings(sqlite_url(tmp_path / "unused.db")))


@pytest.fixture
async def client(web_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(web_app) as client:
        yield client


async def raw_get(app: FastAPI, raw_path: bytes) -> tuple[int, bytes]:
    """GET with the path exactly as given (an HTTP client would normalise `..` away)."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path.decode()),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = int(sent[0]["status"])
    body = b"".join(bytes(message.get("body", b"")) for message in sent[1:])
    return status, body


async def test_app_redirects_to_the_slash_and_serves_the_page_with_its_csp(
    client: httpx.AsyncClient,
) -> None:
    redirect = await client.get("/app")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "/app/"
    page = await client.get("/app/")
    assert page.status_code == 200
    assert page.content == INDEX
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == APP_CSP
    assert "script-src 'self';" in APP_CSP and "unsafe-" not in APP_CSP
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["permissions-policy"] == PERMISSIONS_POLICY
    assert page.headers["cache-control"] == "no-cache"
    # An API answer keeps the API's policy: /app's is only for /app.
    health = await client.get("/health/live")
    assert health.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "permissions-policy" not in health.headers
    assert (await client.get("/application")).headers["content-security-policy"] != APP_CSP


@pytest.mark.parametrize("path", ["/app/markets", "/app/markets/GOOG", "/app/backtests/42/"])
async def test_client_side_routes_get_the_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-security-policy"] == APP_CSP


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/app/js/main.js", "text/javascript; charset=utf-8"),
        ("/app/vendor/lightweight-charts.mjs", "text/javascript; charset=utf-8"),
        ("/app/app.css", "text/css; charset=utf-8"),
        ("/app/favicon.svg", "image/svg+xml"),
        ("/app/logo.png", "image/png"),
        ("/app/manifest.json", "application/json"),
        ("/app/vendor/licenses/htm/LICENSE", "text/plain; charset=utf-8"),
    ],
)
async def test_files_have_their_content_type(
    client: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_unknown_files_and_hidden_files_are_404_problems(client: httpx.AsyncClient) -> None:
    for path in ("/app/nothing.js", "/app/js/missing.css", "/app/vendor/.stamp", "/app/.stamp"):
        assert_exact_problem(await client.get(path), 404, "not-found")


async def test_a_missing_vendor_file_says_how_to_fetch_it(client: httpx.AsyncClient) -> None:
    body = assert_exact_problem(await client.get("/app/vendor/preact-htm.mjs"), 404, "not-found")
    assert "python -m quantdesk.web.vendor" in str(body["detail"])


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/app/../pyproject.toml",
        b"/app/%2e%2e/pyproject.toml",
        b"/app/%2E%2E/%2e%2e/pyproject.toml",
        b"/app/vendor/../../pyproject.toml",
        b"/app/vendor/..%2f..%2fpyproject.toml",
        b"/app/js/..%5c..%5cpyproject.toml",
        b"/app//etc/passwd",
        b"/app/%2fetc%2fpasswd",
    ],
)
async def test_no_path_leaves_the_static_folder(web_app: FastAPI, raw_path: bytes) -> None:
    status, body = await raw_get(web_app, raw_path)
    assert status == 404
    assert b"secret" not in body and b"root:" not in body


async def test_traversal_through_a_client(client: httpx.AsyncClient) -> None:
    for path in ("/app/../pyproject.toml", "/app/%2e%2e/pyproject.toml", "/app/vendor/../../x"):
        response = await client.get(path)
        assert response.status_code == 404
        assert b"secret" not in response.content


async def test_own_files_revalidate_with_etags(client: httpx.AsyncClient) -> None:
    first = await client.get("/app/js/main.js")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = await client.get("/app/js/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = await client.get("/app/js/main.js", headers={"If-None-Match": 'W/"other"'})
    assert other.status_code == 200
    page = await client.get(
        "/app/", headers={"If-None-Match": (await client.get("/app/")).headers["etag"]}
    )
    assert page.status_code == 304


async def test_vendor_files_are_immutable(client: httpx.AsyncClient) -> None:
    response = await client.get("/app/vendor/lightweight-charts.mjs")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == VENDOR_JS


async def test_text_is_gzipped_for_clients_that_accept_it(client: httpx.AsyncClient) -> None:
    zipped = await client.get("/app/js/main.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.content == MAIN_JS  # httpx decodes it
    assert int(zipped.headers["content-length"]) < len(MAIN_JS)
    plain = await client.get("/app/js/main.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == MAIN_JS
    assert gzip.decompress(gzip.compress(MAIN_JS)) == MAIN_JS


async def test_head_and_edits_show_at_once(client: httpx.AsyncClient, static_dir: Path) -> None:
    head = await client.head("/app/app.css")
    assert head.status_code == 200
    before = (await client.get("/app/app.css")).headers["etag"]
    (static_dir / "app.css").write_text("body { margin: 1px }\n")
    after = await client.get("/app/app.css")
    assert after.text == "body { margin: 1px }\n"
    assert after.headers["etag"] != before


def test_app_routes_are_not_in_the_openapi_document(web_app: FastAPI) -> None:
    assert not [path for path in web_app.openapi()["paths"] if path.startswith("/app")]


async def test_no_index_is_a_404_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(routes, "STATIC_DIR", empty)
    async with client_for(create_app(make_settings(sqlite_url(tmp_path / "x.db")))) as client:
        assert_exact_problem(await client.get("/app/"), 404, "not-found")


def test_missing_vendor_files_are_logged_at_startup(
    static_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(routes, "STATIC_DIR", static_dir)
    with caplog.at_level(logging.WARNING, logger="quantdesk.web"):
        create_app(make_settings(sqlite_url(tmp_path / "x.db")))
    warnings = [str(r.msg) for r in caplog.records if r.name == "quantdesk.web"]
    assert any("dashboard libraries missing" in message for message in warnings)
    assert "python -m quantdesk.web.vendor" in str(warnings)
