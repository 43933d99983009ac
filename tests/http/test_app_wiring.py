"""The real app carries the HTTP protections (the middleware itself is tested beside it)."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from tests.support.settings import make_settings


async def test_app_responses_carry_security_headers(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/api/v1/instruments"), await client.get("/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # development
    authenticated = await client.get("/api/v1/instruments", headers={"X-API-Key": "qd_live_x"})
    assert authenticated.status_code == 401
    assert authenticated.headers["cache-control"] == "no-store"


async def test_app_enforces_body_limits(client: httpx.AsyncClient) -> None:
    too_big = await client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * 1_100_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    wrong_type = await client.post(
        "/api/v1/auth/login", content=b"hello", headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    deep = "[" * 40 + "]" * 40
    nested = await client.post(
        "/api/v1/auth/register", content=deep, headers={"Content-Type": "application/json"}
    )
    assert nested.status_code == 422


async def test_production_trusts_only_allowed_hosts_and_sends_hsts(
    postgres_migrated_url: str,
) -> None:
    settings = make_settings(
        postgres_migrated_url,
        environment="production",
        secret_key="s" * 40,
        cors_origins=["https://desk.example"],
        allowed_hosts=["api.desk.example"],
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.desk.example"
        ) as client:
            ok = await client.get("/health/live")
            assert ok.status_code == 200 and "max-age=" in ok.headers["strict-transport-security"]
            evil = await client.get("/health/live", headers={"Host": "evil.example"})
            assert (
                evil.status_code == 400
                and evil.headers["content-type"] == "application/problem+json"
            )
