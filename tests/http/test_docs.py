"""The interactive docs work offline: every asset they load is served by the app itself."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from quantdesk.http.headers import DOCS_CSP

ASSET = re.compile(r'(?:src|href|spec-url)="([^"]+)"')
SCRIPT_TYPES = ("text/javascript", "application/javascript")


def referenced_urls(page: httpx.Response) -> list[str]:
    return [urljoin(str(page.url), url) for url in ASSET.findall(page.text)]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_docs_pages_load_only_same_origin_assets(
    client: httpx.AsyncClient, path: str
) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == DOCS_CSP
    assert "<script>" not in page.text  # no inline script: the CSP allows 'self' only
    urls = referenced_urls(page)
    assert any(url.endswith(".js") for url in urls), page.text
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("http", "testserver"), url
        asset = await client.get(parts.path)
        assert asset.status_code == 200, url
        kind = asset.headers["content-type"]
        if parts.path.endswith(".js"):
            assert kind.startswith(SCRIPT_TYPES), (url, kind)
            assert len(asset.content) > 100
        elif parts.path.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
        elif parts.path.endswith(".json"):
            assert asset.json()["openapi"].startswith("3.")


async def test_swagger_ui_is_configured_by_a_script_of_its_own(client: httpx.AsyncClient) -> None:
    script = (await client.get("/docs/swagger-init.js")).text
    assert "SwaggerUIBundle(" in script and '"url": "/openapi.json"' in script
    assert '"validatorUrl": null' in script  # no document sent to an online validator
    bundle = await client.get("/docs/static/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.content[:200_000]
    redoc = await client.get("/docs/static/redoc.standalone.js")
    assert redoc.status_code == 200 and len(redoc.content) > 100_000
