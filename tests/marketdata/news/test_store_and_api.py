"""Storing news (de-duplicated, sanitized, tagged, scored, announced in the storing
transaction) and reading it back through GET /news and /news/{id}, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.db import Database
from quantdesk.kit.app_state import app_state
from quantdesk.marketdata.news.events import NewsPublished
from quantdesk.marketdata.news.service import news_service
from quantdesk.marketdata.providers.base import NewsItem
from quantdesk.models import AssetClass
from tests.support.events import buffered, settle
from tests.support.factories import create_instrument
from tests.support.problems import assert_problem

JAN_5 = 1_704_412_800  # 2024-01-05T00:00:00Z
HOUR = 3_600


def item(n: int, title: str, **overrides: object) -> NewsItem:
    values: dict[str, object] = {
        "id": f"wire-{n}",
        "title": title,
        "url": f"https://news.example.com/story/{n}",
        "published_at": JAN_5 + n * HOUR,
        "source": "wire",
        "summary": None,
    }
    values.update(overrides)
    return NewsItem(**values)  # type: ignore[arg-type]


STORIES = [
    item(
        1, "Google profit rose sharply as ad sales surged", summary="<p>Strong <b>quarter</b></p>"
    ),
    item(2, "Apple loss widened after weak iPhone demand", symbols=("AAPL",)),
    item(3, "Central bank holds rates steady"),
    # The same story again: same URL with tracking parameters, then the same title re-cased.
    item(4, "Google profit rose (update)", url="https://news.example.com/story/1?utm_source=rss"),
    item(5, "GOOGLE PROFIT ROSE SHARPLY AS AD SALES SURGED!"),
    item(6, "<script>alert(1)</script>"),  # nothing left once sanitized: no title
]


@pytest.fixture
async def instruments(db: Database) -> None:
    await create_instrument(db, "GOOG", name="Alphabet Inc. (Google) Class C")
    await create_instrument(db, "AAPL", name="Apple Inc.")
    await create_instrument(db, "BTCUSD", name="Bitcoin / US Dollar", asset_class=AssetClass.CRYPTO)


@pytest.mark.usefixtures("instruments")
async def test_store_dedupes_sanitizes_tags_scores_and_emits(app: FastAPI, db: Database) -> None:
    bus = app_state(app).events
    async with await bus.subscribe("news.") as subscription:
        async with db.session() as session:
            result = await news_service.store(session, STORIES, provider="rss", bus=bus)
            await settle()
            assert buffered(subscription) == []  # nothing before the commit
        await settle()
        events = buffered(subscription)
    assert len(result.new_ids) == 3 and result.duplicates == 2 and result.untitled == 1
    async with db.session() as session:
        google, apple, bank = await news_service.by_ids(session, result.new_ids)
    assert google.summary == "Strong quarter" and google.symbols == ["GOOG"]
    assert apple.symbols == ["AAPL"] and bank.symbols == []
    # Sentiment at ingest, explained by its hits ("profit rose" +, "loss widened" -).
    assert google.sentiment_label == "positive" and google.sentiment_score is not None
    assert google.sentiment_score > 0 and google.sentiment_model == "lexicon"
    assert google.sentiment_model_version and google.sentiment_hits
    assert {"word", "category", "weight"} <= set(google.sentiment_hits[0])
    assert apple.sentiment_label == "negative"
    payloads = [event.payload for event in events]
    assert all(isinstance(payload, NewsPublished) for payload in payloads)
    assert [(event.topic, getattr(event.payload, "news_id", None)) for event in events] == [
        ("news.GOOG", google.id),
        ("news.AAPL", apple.id),
        ("news._", bank.id),
    ]
    payload = events[0].payload
    assert isinstance(payload, NewsPublished) and payload.type_name == "news"
    assert NewsPublished.from_dict(payload.to_dict()) == payload
    # Stored once: a second store of the same stories adds nothing and announces nothing.
    async with db.session() as session:
        again = await news_service.store(session, STORIES, provider="rss", bus=bus)
    assert again.new_ids == [] and again.duplicates == 5


@pytest.mark.usefixtures("instruments")
async def test_list_filters_and_cursor_pages(db: Database, client: httpx.AsyncClient) -> None:
    stories = [
        item(n, f"Bitcoin story number {n} with {'rally' if n % 2 else 'slump'}")
        for n in range(10, 17)
    ]
    async with db.session() as session:
        await news_service.store(session, [*STORIES, *stories], provider="rss", bus=None)

    everything = (await client.get("/api/v1/news", params={"limit": 200})).json()
    titles = [news["title"] for news in everything["data"]]
    assert len(titles) == 10 and titles[0] == "Bitcoin story number 16 with slump"  # newest first
    assert everything["meta"]["provider"] == "rss" and everything["meta"]["hint"] is None

    goog = (await client.get("/api/v1/news", params={"symbol": "goog"})).json()
    (only,) = goog["data"]
    assert only["symbols"] == ["GOOG"] and only["summary"] == "Strong quarter"
    assert only["sentiment"]["label"] == "positive" and only["sentiment"]["hits"]
    assert only["published_at"] == "2024-01-05T01:00:00Z"

    found = await client.get("/api/v1/news", params={"q": "RALLY bitcoin", "symbol": "BTCUSD"})
    assert [n["title"][-5:] for n in found.json()["data"]] == ["rally"] * 3  # 15, 13, 11

    since = await client.get("/api/v1/news", params={"since": "2024-01-05T15:00:00Z"})
    assert len(since.json()["data"]) == 2  # stories 15 and 16

    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"symbol": "BTCUSD", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = (await client.get("/api/v1/news", params=params)).json()
        pages.extend(n["title"] for n in body["data"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    assert pages == [f"Bitcoin story number {n} with {'rally' if n % 2 else 'slump'}"
                     for n in range(16, 9, -1)]  # fmt: skip

    one = (await client.get(f"/api/v1/news/{only['id']}")).json()
    assert one["data"] == only and one["meta"]["provider"] == "rss"

    like = await client.get("/api/v1/news", params={"q": "100%_"})  # LIKE characters escaped
    assert like.json()["data"] == [] and like.json()["meta"]["hint"]


async def test_empty_answers_say_how_to_get_news(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/news", params={"symbol": "GOOG"})).json()
    assert body["data"] == [] and body["meta"]["provider"] == "none"
    assert (
        "demo load" in body["meta"]["hint"] and "QUANTDESK_PROVIDERS_NEWS" in body["meta"]["hint"]
    )
    problem = assert_problem(await client.get("/api/v1/news/12345"), 404)
    assert "12345" in str(problem["detail"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"symbol": "not a symbol"}, "symbol"),
        ({"since": "yesterday"}, "since"),
        ({"limit": 0}, "limit"),
        ({"cursor": "forged"}, "cursor"),
        ({"q": " ".join("abcdefghij")}, "q"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, str | int], field: str
) -> None:
    problem = assert_problem(await client.get("/api/v1/news", params=params), 422)
    assert any(error["loc"][-1] == field for error in problem["errors"]), problem  # type: ignore[attr-defined]


async def test_news_id_must_be_a_positive_integer(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/api/v1/news/abc"), 422)
    assert problem["errors"][0]["loc"][-1] == "news_id"  # type: ignore[index]


def test_published_at_of_an_undated_item_is_when_it_was_fetched() -> None:
    from quantdesk.marketdata.news.service import _published

    fetched = dt.datetime(2024, 1, 5, 12, 0, 0, 123456, tzinfo=dt.UTC)
    assert _published(item(1, "x", published_at=None), fetched) == fetched.replace(microsecond=0)
