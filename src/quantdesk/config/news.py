"""News settings (quantdesk.marketdata.news), mixed into `Settings`. The feeds themselves are
`rss_feeds` and the provider chain `providers_news` (docs/providers.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode


class NewsSettings(BaseModel):
    # Items asked of each news provider per `news.fetch` run (and per symbol below).
    news_fetch_limit: int = Field(default=100, ge=1, le=1_000)
    # Symbols also fetched one by one (Polygon answers news per ticker), comma-separated.
    news_symbols: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Sentiment model scored into each item at ingest (engine/sentiment); "off": none.
    news_sentiment_model: str = Field(default="lexicon", pattern="^(lexicon|off)$")

    @field_validator("news_symbols", mode="before")
    @classmethod
    def _split_news_symbols(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip().upper() for item in value.split(",") if item.strip()]
        return value
