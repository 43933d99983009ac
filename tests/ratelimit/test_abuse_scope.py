"""Whom an abuse block refuses: anonymous requests from the blocked address, never callers
with credentials nor the health probes and /metrics (the 127.0.0.1 lock-out)."""

from __future__ import annotations

import pytest

from quantdesk.kit.clientip import parse_networks
from tests.support.ratelimit import limiter_of, serving, small_config, user

# The test app reads who is calling from X-Test-User; the edge sees the credential header.
ADMIN = {**user(1, "admin", key=7), "X-API-Key": "qd_test_admin_key"}


async def _get_blocked(http: object, threshold: int) -> None:
    for _ in range(5 + threshold):  # guest tier: 5/minute, then `threshold` 429s
        await http.get("/api/market")  # type: ignore[attr-defined]


async def test_a_block_refuses_anonymous_requests_only() -> None:
    async with serving(small_config(abuse_threshold=3)) as (app, http):
        await _get_blocked(http, 3)
        refused = await http.get("/api/market")
        assert refused.status_code == 403
        assert refused.json()["type"].endswith("/ip-blocked")
        # The same address with credentials is served: its own limits govern it.
        admin = await http.get("/api/market", headers=ADMIN)
        assert admin.status_code == 200
        assert "RateLimit-Limit" not in admin.headers  # its own tier: admin, unlimited
        # Probes and the scraper are never refused by an abuse block.
        for path in ("/health", "/health/live", "/metrics"):
            assert (await http.get(path)).status_code == 200, path
        # An empty credential header is no credential: still anonymous, still blocked.
        for empty in ({"Authorization": ""}, {"X-API-Key": ""}):
            assert (await http.get("/api/market", headers=empty)).status_code == 403
        assert [block.ip for block in await limiter_of(app).abuse.blocks()] == ["127.0.0.1"]


async def test_an_authenticated_callers_429s_do_not_block_the_address() -> None:
    async with serving(small_config(abuse_threshold=2)) as (app, http):
        alice = {**user(5), "Authorization": "Bearer alice"}
        statuses = [(await http.get("/api/market", headers=alice)).status_code for _ in range(20)]
        assert statuses.count(429) == 10  # user tier: 10/minute
        assert (await http.get("/api/market")).status_code == 200  # anonymous, not blocked
        assert await limiter_of(app).abuse.blocks() == []


async def test_the_static_blocklist_still_refuses_everyone() -> None:
    config = small_config(blocklist=parse_networks(["203.0.113.0/24"]))
    async with serving(config, peer="203.0.113.9") as (_, http):
        assert (await http.get("/api/market", headers=ADMIN)).status_code == 403


@pytest.mark.parametrize("root_path", ["", "/prefix"])
async def test_exempt_paths_are_matched_exactly(root_path: str) -> None:
    from quantdesk.http.ratelimit_gate import exempt_from_abuse_blocks

    def scope(path: str) -> dict[str, str]:
        return {"path": root_path + path, "root_path": root_path}

    for path in ("/health", "/health/live", "/metrics"):
        assert exempt_from_abuse_blocks(scope(path))
    for path in ("/healthz", "/metrics-x", "/api/v1/health", "/"):
        assert not exempt_from_abuse_blocks(scope(path))
