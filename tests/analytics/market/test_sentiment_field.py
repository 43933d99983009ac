"""The screener's `sentiment`: the mean score of a symbol's scored news over the configured
days before its latest scored item (unscored and older items left out)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import NewsArticle, NewsArticleSymbol
from tests.support.market import add_daily, refresh

FRIDAY, SATURDAY = date(2024, 3, 15), date(2024, 3, 16)


async def _news(db: Database, key: str, day: int, score: float | None) -> None:
    published = datetime(2024, 3, day, 12, tzinfo=UTC)
    async with db.session() as session:
        item = NewsArticle(
            title=f"ACME item {key}",
            title_key=key,
            source="test",
            provider="test",
            published_at=published,
            symbols=["ACME"],
            sentiment_score=score,
        )
        session.add(item)
        await session.flush()
        session.add(NewsArticleSymbol(news_id=item.id, symbol="ACME", published_at=published))


async def test_sentiment_is_the_recent_mean_of_scored_news(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await add_daily(db, "ACME", FRIDAY, [10, 11])
    await add_daily(db, "QUIET", FRIDAY, [10, 11])
    await _news(db, "old", 1, -1.0)  # more than 7 days before the latest: left out
    await _news(db, "a", 10, 0.2)
    await _news(db, "b", 14, 0.6)
    await _news(db, "unscored", 15, None)
    await refresh(db, settings, SATURDAY)
    body = (
        await client.post(
            "/api/v1/screener",
            json={"filters": [{"field": "sentiment", "op": "gt", "value": 0}]},
        )
    ).json()
    (row,) = body["data"]
    assert row["symbol"] == "ACME"
    assert row["sentiment"] == pytest.approx(0.4)
