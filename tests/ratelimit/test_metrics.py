"""`rate_limit_exceeded_total{policy}`: one count per 429, labelled with the limit that refused
(the registry is process-global, so counts compare before/after)."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.support.ratelimit import serving, small_config, user


def refusals(policy: str) -> float:
    return REGISTRY.get_sample_value("rate_limit_exceeded_total", {"policy": policy}) or 0.0


async def test_a_refused_role_tier_counts_under_tier_and_role() -> None:
    before = refusals("tier:guest"), refusals("tier:user")
    async with serving(small_config()) as (_, http):
        statuses = [(await http.get("/api/market")).status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert (refusals("tier:guest") - before[0], refusals("tier:user") - before[1]) == (2, 0)


async def test_a_refused_endpoint_policy_counts_under_its_name() -> None:
    before = refusals("signals-refresh"), refusals("tier:user")
    async with serving(small_config()) as (_, http):
        statuses = [
            (await http.post("/api/signals/refresh", headers=user(7))).status_code for _ in range(3)
        ]
    assert statuses == [200, 200, 429]
    assert (refusals("signals-refresh") - before[0], refusals("tier:user") - before[1]) == (1, 0)


async def test_allowed_requests_count_nothing() -> None:
    before = refusals("tier:premium")
    async with serving(small_config()) as (_, http):
        for _ in range(3):
            response = await http.get("/api/market", headers=user(8, "premium"))
            assert response.status_code == 200
    assert refusals("tier:premium") == before
