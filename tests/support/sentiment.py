"""Stored news items for the sentiment tests (rows of marketdata.news's tables)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from quantdesk.db import Database
from quantdesk.engine.sentiment import score_texts
from quantdesk.models import NewsArticle, NewsArticleSymbol

SENTIMENT = "/api/v1/sentiment"


async def store_news(
    db: Database,
    symbol: str,
    title: str,
    published_at: datetime,
    *,
    scored: bool = True,
    provider: str = "newsfile",
    **extra: Any,
) -> int:
    """One news item tagged `symbol`, scored with the lexicon like ingest does (or not)."""
    columns: dict[str, Any] = {}
    if scored:
        (score,) = score_texts([title])
        columns = {
            "sentiment_score": score.score,
            "sentiment_label": score.label,
            "sentiment_model": score.model,
            "sentiment_model_version": score.model_version,
            "sentiment_hits": [
                {"word": h.word, "category": h.category, "weight": h.weight} for h in score.hits
            ],
        }
    key = hashlib.sha256(title.encode()).hexdigest()
    async with db.session() as session:
        item = NewsArticle(
            title=title,
            summary=None,
            url=f"https://news.example/{key[:12]}",
            url_key=key,
            title_key=key,
            source="Example Wire",
            provider=provider,
            published_at=published_at,
            symbols=[symbol],
            **columns,
            **extra,
        )
        session.add(item)
        await session.flush()
        session.add(NewsArticleSymbol(news_id=item.id, symbol=symbol, published_at=published_at))
        news_id: int = item.id
    return news_id
