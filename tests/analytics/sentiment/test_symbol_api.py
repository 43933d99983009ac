"""GET /sentiment/{symbol}: news score and label over a window, counts, strongest items with
hits, daily trend; windows anchored when the news is older; hints instead of bare 404s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from quantdesk.db import Database
from tests.support.factories import create_instrument
from tests.support.problems import assert_problem
from tests.support.sentiment import SENTIMENT, store_news

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def goog_news(db: Database) -> dict[str, int]:
    await create_instrument(db, "GOOG")
    return {
        "up": await store_news(db, "GOOG", "Acme profit rose 20%", NOW - timedelta(days=1)),
        "down": await store_news(
            db, "GOOG", "Acme loss widened as costs jumped", NOW - timedelta(days=2)
        ),
        "flat": await store_news(
            db, "GOOG", "Acme to hold annual meeting", NOW - timedelta(days=2)
        ),
        # Stored without a score (ingest with scoring off): scored when read.
        "unscored": await store_news(
            db, "GOOG", "Acme beats estimates", NOW - timedelta(hours=3), scored=False
        ),
        "old": await store_news(db, "GOOG", "Acme revenue fell", NOW - timedelta(days=20)),
    }


async def test_window_aggregate_counts_top_items_and_trend(
    client: httpx.AsyncClient, goog_news: dict[str, int]
) -> None:
    response = await client.get(f"{SENTIMENT}/GOOG", params={"window": "7d"})
    assert response.status_code == 200, response.text
    body = response.json()
    data, meta = body["data"], body["meta"]
    assert data["counts"] == {"positive": 2, "negative": 1, "neutral": 1, "total": 4}
    # Mean of the four scores in the window (the 20-day-old item is outside it).
    scores = {item["id"]: item["score"] for item in data["top_items"]}
    assert set(scores) == {goog_news[k] for k in ("up", "down", "flat", "unscored")}
    assert data["score"] == pytest.approx(sum(scores.values()) / 4, abs=1e-4)
    assert data["label"] in {"somewhat_bullish", "bullish", "neutral"}
    # Strongest first, each with its hits.
    assert [abs(s) for s in (i["score"] for i in data["top_items"])] == sorted(
        (abs(s) for s in scores.values()), reverse=True
    )
    down = next(i for i in data["top_items"] if i["id"] == goog_news["down"])
    assert down["label"] == "negative"
    assert {"word": "loss widened", "category": "direction", "weight": -1.5} in down["hits"]
    unscored = next(i for i in data["top_items"] if i["id"] == goog_news["unscored"])
    assert unscored["label"] == "positive"
    assert unscored["hits"] == [{"word": "beats", "category": "direction", "weight": 1.0}]
    # One trend point per UTC day from the window's first day to its last.
    days = [point["day"] for point in data["trend"]]
    assert days[0] == (NOW - timedelta(days=7)).date().isoformat()
    assert days[-1] == NOW.date().isoformat()
    assert sum(point["count"] for point in data["trend"]) == 4
    assert meta["anchored"] == "now"
    assert meta["provider"] == "newsfile"
    assert meta["hint"] is None
    assert data["votes"]["window"]["total"] == 0


async def test_a_wider_window_takes_older_items(
    client: httpx.AsyncClient, goog_news: dict[str, int]
) -> None:
    body = (await client.get(f"{SENTIMENT}/GOOG", params={"window": "30d"})).json()
    assert body["data"]["counts"]["total"] == 5
    short = (await client.get(f"{SENTIMENT}/GOOG", params={"window": "24h"})).json()
    assert short["data"]["counts"]["total"] == 1
    assert short["data"]["score"] == pytest.approx(0.5)
    assert short["data"]["label"] == "bullish"


async def test_old_news_anchors_the_window_at_the_newest_item(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_instrument(db, "BTCUSD")
    published = datetime(2018, 6, 14, 16, tzinfo=UTC)
    await store_news(db, "BTCUSD", "Bitcoin plunges as exchange is hacked", published)
    body = (await client.get(f"{SENTIMENT}/BTCUSD")).json()
    assert body["meta"]["anchored"] == "latest_item"
    assert body["data"]["window_end"].startswith("2018-06-14T16:00:00")
    assert body["data"]["counts"]["negative"] == 1
    assert "newest stored item" in body["meta"]["hint"]
    # An explicit end is taken as asked.
    later = await client.get(f"{SENTIMENT}/BTCUSD", params={"end": "2019-01-01T00:00:00Z"})
    assert later.json()["meta"]["anchored"] == "end"
    assert later.json()["data"]["counts"]["total"] == 0


async def test_an_instrument_without_news_answers_how_to_get_it(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_instrument(db, "MSFT")
    body = (await client.get(f"{SENTIMENT}/MSFT")).json()
    assert body["data"]["counts"]["total"] == 0
    assert body["data"]["score"] is None and body["data"]["label"] is None
    assert "news.fetch" in body["meta"]["hint"]
    assert body["meta"]["provider"] == "none"


async def test_an_unknown_symbol_is_a_404_that_says_how_news_arrives(
    client: httpx.AsyncClient,
) -> None:
    problem = assert_problem(await client.get(f"{SENTIMENT}/NOPE"), 404)
    assert "news.fetch" in str(problem["detail"])


async def test_an_end_before_1970_is_a_422_naming_it(
    client: httpx.AsyncClient, goog_news: dict[str, int]
) -> None:
    response = await client.get(f"{SENTIMENT}/GOOG", params={"end": "0001-01-01T00:00:00Z"})
    errors = assert_problem(response, 422)["errors"]
    assert isinstance(errors, list)
    assert [e["field"] for e in errors] == ["query.end"]


@pytest.mark.parametrize("window", ["0d", "91d", "7w", "x", "2161h", "0000000", "07d"])
async def test_bad_windows_are_422_naming_the_parameter(
    client: httpx.AsyncClient, goog_news: dict[str, int], window: str
) -> None:
    problem = assert_problem(await client.get(f"{SENTIMENT}/GOOG", params={"window": window}), 422)
    errors = problem["errors"]
    assert isinstance(errors, list)
    assert [e["field"] for e in errors] == ["query.window"]
