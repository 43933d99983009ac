"""API schemas for news."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from quantdesk.models import NewsArticle


class SentimentHitRead(BaseModel):
    word: str
    category: str = Field(description="The rule: positive, negative, negated, direction, ...")
    weight: float = Field(description="Signed: > 0 positive evidence, < 0 negative")


class NewsSentimentRead(BaseModel):
    score: float = Field(description="In [-1, 1]")
    label: Literal["positive", "negative", "neutral"]
    model: str
    model_version: str
    hits: list[SentimentHitRead] = Field(description="The words and rules behind the score")


class NewsRead(BaseModel):
    id: int
    title: str = Field(description="Plain text (sanitized at ingest)")
    summary: str | None = Field(description="Plain text (sanitized at ingest)")
    url: str | None
    source: str = Field(description="The feed or publisher")
    provider: str = Field(description="Who supplied it: rss, polygon, newsfile:<file>")
    published_at: dt.datetime
    symbols: list[str] = Field(description="Tagged by the provider and from the text")
    sentiment: NewsSentimentRead | None = Field(description="Scored at ingest; null: not scored")

    @classmethod
    def of(cls, item: NewsArticle) -> NewsRead:
        sentiment = None
        if item.sentiment_label is not None and item.sentiment_score is not None:
            sentiment = NewsSentimentRead(
                score=item.sentiment_score,
                label=item.sentiment_label,
                model=item.sentiment_model or "",
                model_version=item.sentiment_model_version or "",
                hits=[SentimentHitRead(**hit) for hit in item.sentiment_hits or []],
            )
        return cls(
            id=item.id,
            title=item.title,
            summary=item.summary,
            url=item.url,
            source=item.source,
            provider=item.provider,
            published_at=item.published_at,
            symbols=list(item.symbols),
            sentiment=sentiment,
        )


class NewsListMeta(BaseModel):
    count: int
    next_cursor: str | None = None
    provider: str = Field(description="The providers of the items on this page, comma-separated")
    hint: str | None = Field(
        default=None, description="Why the page is empty and how to get news, when it is"
    )


class NewsListResponse(BaseModel):
    data: list[NewsRead]
    meta: NewsListMeta


class NewsItemMeta(BaseModel):
    provider: str


class NewsItemResponse(BaseModel):
    data: NewsRead
    meta: NewsItemMeta
