"""News items stored from the news providers (RSS/Atom feeds, news files, Polygon).

One row per story: a story seen again under the same URL or the same normalized title is a
duplicate (`url_key` and `title_key` are unique). Text is plain (sanitized with nh3 at ingest).
The symbols an item is about are a JSON list on the row (what the API serves) and one
`news_item_symbols` row each (what `?symbol=` reads, newest first through its index).
The sentiment columns are the scorer's verdict at ingest, with the lexicon hits explaining it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, utcnow


class NewsArticle(Base):
    __tablename__ = "news_items"
    __table_args__ = (Index("ix_news_items_published_id", "published_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(String(2000))
    url: Mapped[str | None] = mapped_column(String(2000))
    # sha256 of the normalized URL / title: the de-duplication keys.
    url_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    title_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    symbols: Mapped[list[str]] = mapped_column(JSON)
    sentiment_score: Mapped[float | None] = mapped_column(Double)
    sentiment_label: Mapped[str | None] = mapped_column(String(16))
    sentiment_model: Mapped[str | None] = mapped_column(String(64))
    sentiment_model_version: Mapped[str | None] = mapped_column(String(32))
    sentiment_hits: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class NewsArticleSymbol(Base):
    """An item tagged with a symbol; `published_at` repeats the item's for the symbol index."""

    __tablename__ = "news_item_symbols"
    __table_args__ = (
        Index("ix_news_item_symbols_symbol_published", "symbol", "published_at", "news_id"),
    )

    news_id: Mapped[int] = mapped_column(
        ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
