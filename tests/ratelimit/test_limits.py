"""Tiers, stacked endpoint policies, keys and headers (in-process storage)."""

from __future__ import annotations

import time

import httpx

from quantdesk.access.scopes import Role
from quantdesk.ratelimit.limiter import storage_key
from tests.support.ratelimit import limiter_of, serving, small_config, user

HEADERS = (
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)


def assert_limit_headers(response: httpx.Response, limit: int, remaining: int) -> None:
    for name in HEADERS:
        assert name in response.headers, name
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == str(remaining)
    assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= 120  # within two windows
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())


async def test_guest_tier_allows_its_limit_then_answers_429_problem_with_headers() -> None:
    async with serving(small_config()) as (_, http):
        for sent in range(5):
            response = await http.get("/api/market")
            assert response.status_code == 200
            assert_limit_headers(response, limit=5, remaining=4 - sent)
        refused = await http.get("/api/market")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["status"] == 429
    assert body["type"].endswith("/rate-limited")
    assert "guest tier" in body["detail"]
    assert body["request_id"] == refused.headers["X-Request-ID"]
    assert_limit_headers(refused, limit=5, remaining=0)
    assert 1 <= int(refused.headers["Retry-After"]) <= 120
    # Exactly one of each header, even though the error and the middleware both carry them.
    assert len(refused.headers.get_list("RateLimit-Remaining")) == 1


async def test_headers_are_added_to_a_raw_response_returned_by_the_endpoint() -> None:
    async with serving(small_config()) as (_, http):
        response = await http.get("/api/raw")
    assert response.status_code == 200
    assert response.content == b"\x00\x01raw"
    assert_limit_headers(response, limit=5, remaining=4)


async def test_unlimited_routes_carry_no_limit_headers() -> None:
    async with serving(small_config()) as (_, http):
        for _ in range(8):
            response = await http.get("/health")
            assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers


async def test_tiers_follow_the_role_and_admin_is_unlimited() -> None:
    async with serving(small_config()) as (_, http):
        assert (await http.get("/api/market", headers=user(1))).headers["RateLimit-Limit"] == "10"
        premium = await http.get("/api/market", headers=user(2, "premium"))
        assert premium.headers["RateLimit-Limit"] == "1000"
        for _ in range(30):
            admin = await http.get("/api/market", headers=user(3, "admin"))
            assert admin.status_code == 200
        assert "RateLimit-Limit" not in admin.headers


async def test_tier_is_keyed_by_api_key_else_user_else_ip() -> None:
    async with serving(small_config()) as (_, http):
        for _ in range(10):
            assert (await http.get("/api/market", headers=user(1, key=11))).status_code == 200
        assert (await http.get("/api/market", headers=user(1, key=11))).status_code == 429
        # Another key of the same user, and the user's JWT, have their own tier budgets.
        assert (await http.get("/api/market", headers=user(1, key=12))).status_code == 200
        assert (await http.get("/api/market", headers=user(1))).status_code == 200
        # The anonymous budget of the same IP is separate too.
        assert (await http.get("/api/market")).status_code == 200


async def test_endpoint_policy_stacks_on_the_tier_per_user() -> None:
    async with serving(small_config()) as (_, http):
        for _ in range(2):
            ok = await http.post("/api/signals/refresh", headers=user(1, key=11))
            assert ok.status_code == 200
        # The policy is per user: switching API keys does not buy more refreshes.
        refused = await http.post("/api/signals/refresh", headers=user(1, key=12))
        assert refused.status_code == 429
        assert "signals-refresh" in refused.json()["detail"]
        assert refused.headers["RateLimit-Limit"] == "2"
        assert int(refused.headers["Retry-After"]) > 60  # a 5-minute window
        # Another user still has refreshes, and the first user's tier still has room.
        assert (await http.post("/api/signals/refresh", headers=user(2))).status_code == 200
        assert (await http.get("/api/market", headers=user(1, key=12))).status_code == 200


async def test_headers_report_the_limit_closest_to_running_out() -> None:
    async with serving(small_config()) as (_, http):
        response = await http.post("/api/signals/refresh", headers=user(1))
    assert response.headers["RateLimit-Limit"] == "2"
    assert response.headers["RateLimit-Remaining"] == "1"
    assert response.headers["RateLimit-Policy"] == "2;w=300"


async def test_backtest_policy_limits_only_non_premium_roles() -> None:
    async with serving(small_config()) as (_, http):
        assert (await http.post("/api/backtests", headers=user(1))).status_code == 200
        assert (await http.post("/api/backtests", headers=user(1))).status_code == 429
        for _ in range(3):
            premium = await http.post("/api/backtests", headers=user(2, "premium"))
            assert premium.status_code == 200


async def test_router_and_route_dependencies_count_the_tier_once() -> None:
    async with serving(small_config()) as (_, http):
        response = await http.get("/api/signals/historic", headers=user(1))
        market = await http.get("/api/market", headers=user(1))
    assert response.status_code == 200
    assert market.headers["RateLimit-Remaining"] == "8"  # 10 - 2 requests, not 10 - 3


async def test_a_refused_tier_spends_no_policy_slot() -> None:
    config = small_config()
    policy = config.policies["signals-historic"]
    async with serving(config) as (app, http):
        for _ in range(5):
            assert (await http.get("/api/market")).status_code == 200
        assert (await http.get("/api/signals/historic")).status_code == 429
        counted = limiter_of(app).storage.memory_counters.states
    guest_tier = config.tiers[Role.GUEST]
    assert guest_tier is not None
    assert storage_key(guest_tier, "tier:ip:127.0.0.1") in counted
    assert storage_key(policy.item, "policy:signals-historic:ip:127.0.0.1") not in counted


async def test_disabled_limiter_passes_everything() -> None:
    async with serving(small_config(enabled=False)) as (_, http):
        for _ in range(8):
            response = await http.get("/api/market")
            assert response.status_code == 200
    assert "RateLimit-Limit" not in response.headers
