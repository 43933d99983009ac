"""The 127.0.0.1 lock-out, on the real app: an abuse block refuses anonymous requests only,
never probes, /metrics or an admin's key, and an admin lists and lifts it (audited)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from quantdesk.access.scopes import Role
from quantdesk.app import create_app
from tests.support.accounts import bearer, create_key, create_user, login
from tests.support.settings import make_settings

GUEST_TIER = 3
THRESHOLD = 2


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        database_url, rate_limit_guest=f"{GUEST_TIER}/minute", abuse_429_threshold=THRESHOLD
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            http.app = app  # type: ignore[attr-defined]
            yield http


async def test_lockout_spares_keys_and_probes_and_an_admin_lifts_it(
    client: httpx.AsyncClient,
) -> None:
    db = client.app.state.db  # type: ignore[attr-defined]
    admin_tokens = await login(client, await create_user(db, Role.ADMIN))  # guest request 1
    admin_key = {"X-API-Key": str((await create_key(client, admin_tokens))["key"])}
    user_tokens = await login(client, await create_user(db, Role.USER))  # guest request 2
    for _ in range(GUEST_TIER - 2):
        assert (await client.get("/api/v1/instruments")).status_code == 200
    for _ in range(THRESHOLD):
        assert (await client.get("/api/v1/instruments")).status_code == 429
    refused = await client.get("/api/v1/instruments")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/ip-blocked")

    # Probes, the scraper and callers with credentials are still served.
    assert (await client.get("/health/live")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    assert (await client.get("/api/v1/instruments", headers=admin_key)).status_code == 200
    listed = await client.get("/api/v1/admin/blocks", headers=admin_key)
    assert listed.status_code == 200, listed.text
    (block,) = listed.json()["data"]
    assert block["ip"] == "127.0.0.1" and block["reason"] == "abuse"
    assert 0 < block["retry_after"] <= 900 and block["expires_at"].endswith("Z")

    # Admin only; a malformed address is 422 naming the field, an unknown block 404.
    user = bearer(user_tokens)
    assert (await client.get("/api/v1/admin/blocks", headers=user)).status_code == 403
    assert (await client.delete("/api/v1/admin/blocks/127.0.0.1", headers=user)).status_code == 403
    malformed = await client.delete("/api/v1/admin/blocks/not-an-ip", headers=admin_key)
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"
    assert malformed.json()["errors"][0]["field"] == "path.ip"
    unknown = await client.delete("/api/v1/admin/blocks/192.0.2.1", headers=admin_key)
    assert unknown.status_code == 404 and unknown.json()["type"].endswith("/block-not-found")

    lifted = await client.delete("/api/v1/admin/blocks/127.0.0.1", headers=admin_key)
    assert lifted.status_code == 204
    # Anonymous requests are answered again: by the (still spent) tier, not the block.
    assert (await client.get("/api/v1/instruments")).status_code == 429
    assert (await client.get("/api/v1/admin/blocks", headers=admin_key)).json()["data"] == []
    audit = await client.get(
        "/api/v1/admin/audit", params={"action": "ratelimit.ip_unblocked"}, headers=admin_key
    )
    (event,) = audit.json()["data"]
    assert event["resource_type"] == "ip" and event["resource_id"] == "127.0.0.1"
    assert event["outcome"] == "success"
