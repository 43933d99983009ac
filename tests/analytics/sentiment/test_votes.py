"""Votes: one per user, symbol and UTC day (a second replaces the first), counted in the
sentiment answer, signed-in only, rate-limited, 422 naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from quantdesk.analytics.sentiment.service import sentiment_service
from quantdesk.db import Database
from quantdesk.models import SentimentVote, VoteKind
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument
from tests.support.problems import assert_problem
from tests.support.sentiment import SENTIMENT

VOTES = f"{SENTIMENT}/GOOG/votes"


@pytest.fixture
async def goog(db: Database) -> None:
    await create_instrument(db, "GOOG")


async def headers(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return bearer(await login(client, await create_user(db)))


@pytest.mark.usefixtures("goog")
async def test_a_second_vote_the_same_day_replaces_the_first(
    client: httpx.AsyncClient, db: Database
) -> None:
    alice, bob = await headers(client, db), await headers(client, db)
    first = await client.post(VOTES, json={"vote": "bullish"}, headers=alice)
    assert first.status_code == 200, first.text
    assert first.json()["data"]["replaced"] is None
    assert first.json()["data"]["day"] == datetime.now(UTC).date().isoformat()
    second = await client.post(VOTES, json={"vote": "bearish"}, headers=alice)
    assert second.json()["data"] | {"updated_at": None} == {
        "symbol": "GOOG",
        "day": datetime.now(UTC).date().isoformat(),
        "vote": "bearish",
        "replaced": "bullish",
        "updated_at": None,
    }
    await client.post(f"{SENTIMENT}/goog/votes", json={"vote": "bearish"}, headers=bob)

    answer = (await client.get(f"{SENTIMENT}/GOOG", headers=alice)).json()["data"]["votes"]
    expected = {"bullish": 0, "bearish": 2, "neutral": 0, "total": 2, "score": -1.0}
    assert answer["today"] == expected
    assert answer["window"] == expected
    assert answer["my_vote_today"] == "bearish"
    anonymous = (await client.get(f"{SENTIMENT}/GOOG")).json()["data"]["votes"]
    assert anonymous["my_vote_today"] is None
    async with db.session() as session:
        rows = (await session.execute(select(func.count()).select_from(SentimentVote))).scalar()
    assert rows == 2


@pytest.mark.usefixtures("goog")
async def test_a_new_utc_day_takes_a_new_vote(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db)
    user_id = account.id
    yesterday = datetime.now(UTC) - timedelta(days=1)
    async with db.session() as session:
        await sentiment_service.vote(
            session, user_id=user_id, symbol="GOOG", vote=VoteKind.BULLISH, now=yesterday
        )
    async with db.session() as session:
        today = await sentiment_service.vote(
            session, user_id=user_id, symbol="GOOG", vote=VoteKind.NEUTRAL
        )
    assert today.replaced is None
    body = (await client.get(f"{SENTIMENT}/GOOG", params={"window": "7d"})).json()["data"]
    assert body["votes"]["window"] == {
        "bullish": 1,
        "bearish": 0,
        "neutral": 1,
        "total": 2,
        "score": 0.5,
    }
    assert body["votes"]["today"]["total"] == 1
    one_day = (await client.get(f"{SENTIMENT}/GOOG", params={"window": "1d"})).json()["data"]
    assert one_day["votes"]["window"]["total"] == 1


@pytest.mark.usefixtures("goog")
async def test_votes_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(VOTES, json={"vote": "bullish"}), 401)


@pytest.mark.usefixtures("goog")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"vote": "sell"}, "body.vote"),
        ({}, "body.vote"),
        ({"vote": "bullish", "weight": 2}, "body.weight"),
    ],
)
async def test_bad_votes_are_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, body: dict[str, object], field: str
) -> None:
    problem = assert_problem(
        await client.post(VOTES, json=body, headers=await headers(client, db)), 422
    )
    errors = problem["errors"]
    assert isinstance(errors, list)
    assert [e["field"] for e in errors] == [field]


async def test_a_vote_on_an_unknown_symbol_is_a_404(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post(
        f"{SENTIMENT}/NOPE/votes", json={"vote": "bullish"}, headers=await headers(client, db)
    )
    assert_problem(response, 404)
