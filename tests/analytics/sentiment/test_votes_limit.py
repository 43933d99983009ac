"""Votes are rate-limited per user by the `sentiment-votes` policy (ratelimit/policies.py)."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.ratelimit.policies import POLICIES, KeyKind
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument
from tests.support.problems import assert_problem
from tests.support.sentiment import SENTIMENT
from tests.support.settings import make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, rate_limit_policies={"sentiment-votes": "3 per hour"})


def test_the_policy_is_per_user() -> None:
    policy = POLICIES["sentiment-votes"]
    assert (policy.item.amount, policy.item.get_expiry(), policy.key) == (30, 3600, KeyKind.USER)


async def test_the_fourth_vote_in_an_hour_is_a_429(client: httpx.AsyncClient, db: Database) -> None:
    await create_instrument(db, "GOOG")
    alice = bearer(await login(client, await create_user(db)))
    bob = bearer(await login(client, await create_user(db)))
    for vote in ("bullish", "bearish", "neutral"):
        response = await client.post(f"{SENTIMENT}/GOOG/votes", json={"vote": vote}, headers=alice)
        assert response.status_code == 200, response.text
    limited = await client.post(f"{SENTIMENT}/GOOG/votes", json={"vote": "bullish"}, headers=alice)
    assert_problem(limited, 429)
    assert "retry-after" in limited.headers
    # Another user has an allowance of their own.
    other = await client.post(f"{SENTIMENT}/GOOG/votes", json={"vote": "bullish"}, headers=bob)
    assert other.status_code == 200, other.text
