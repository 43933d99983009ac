"""News service: store provider items once each (sanitized, tagged, scored, announced) and
read them back in cursor pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.engine.sentiment import LexiconUnavailableError, SentimentScore, score_texts
from quantdesk.errors import NotFound, Unprocessable, field_error
from quantdesk.infra.events import EventBus, emit
from quantdesk.kit.pagination import decode_cursor, encode_cursor
from quantdesk.marketdata.news.events import NewsPublished
from quantdesk.marketdata.news.repository import NewsFilter, NewsRepository
from quantdesk.marketdata.news.tagging import Known, SymbolTagger
from quantdesk.marketdata.news.text import plain_text, title_key, url_key
from quantdesk.marketdata.providers.base import NewsItem
from quantdesk.models import NewsArticle, utcnow
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.news")
MAX_TITLE, MAX_SUMMARY, MAX_URL, MAX_SOURCE, MAX_ID = 500, 2000, 2000, 200, 500
MAX_QUERY_WORDS = 8


class NewsNotFound(NotFound):
    code = "news-not-found"


@dataclass(frozen=True)
class StoreResult:
    """What one `store` did: the ids of the new items and how many were skipped."""

    new_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    untitled: int = 0


@dataclass(frozen=True)
class NewsPage:
    items: list[NewsArticle]
    next_cursor: str | None


def _sentiment(texts: list[str], model: str) -> list[SentimentScore | None]:
    if model == "off" or not texts:
        return [None] * len(texts)
    try:
        return list(score_texts(texts, "lexicon"))
    except LexiconUnavailableError as error:
        log.warning("news.sentiment_unavailable", error=str(error))
        return [None] * len(texts)


def _sentiment_columns(score: SentimentScore | None) -> dict[str, Any]:
    if score is None:
        return {
            "sentiment_score": None,
            "sentiment_label": None,
            "sentiment_model": None,
            "sentiment_model_version": None,
            "sentiment_hits": None,
        }
    return {
        "sentiment_score": score.score,
        "sentiment_label": score.label,
        "sentiment_model": score.model,
        "sentiment_model_version": score.model_version,
        "sentiment_hits": [
            {"word": hit.word, "category": hit.category, "weight": hit.weight} for hit in score.hits
        ],
    }


def _published(item: NewsItem, fetched_at: datetime) -> datetime:
    if item.published_at is None:
        return fetched_at.replace(microsecond=0)
    return datetime.fromtimestamp(item.published_at, UTC)


class NewsService:
    async def store(
        self,
        session: AsyncSession,
        items: Sequence[NewsItem],
        *,
        provider: str,
        bus: EventBus | None,
        fetched_at: datetime | None = None,
        sentiment_model: str = "lexicon",
    ) -> StoreResult:
        """Store the items not seen before (same normalized URL or title: a duplicate), each
        tagged with the stored instruments it mentions and scored for sentiment, and emit one
        `news` event per new item and symbol in this transaction."""
        fetched_at = fetched_at or utcnow()
        repository = NewsRepository(session)
        rows: list[dict[str, Any]] = []
        seen_urls: set[str] = set()
        seen_titles: set[str] = set()
        duplicates = untitled = 0
        for item in items:
            title = plain_text(item.title, MAX_TITLE)
            if not title:
                untitled += 1
                continue
            url = (item.url or "").strip()[:MAX_URL] or None
            keys = (url_key(url), title_key(title))
            if keys[1] in seen_titles or (keys[0] is not None and keys[0] in seen_urls):
                duplicates += 1
                continue
            seen_titles.add(keys[1])
            if keys[0] is not None:
                seen_urls.add(keys[0])
            rows.append(
                {
                    "title": title,
                    "summary": plain_text(item.summary, MAX_SUMMARY) or None,
                    "url": url if keys[0] is not None else None,
                    "url_key": keys[0],
                    "title_key": keys[1],
                    "source": plain_text(item.source, MAX_SOURCE) or provider,
                    "provider": provider,
                    "external_id": item.id[:MAX_ID] or None,
                    "published_at": _published(item, fetched_at),
                    "fetched_at": fetched_at,
                    "provider_symbols": item.symbols,
                }
            )
        known_urls, known_titles = await repository.known_keys(
            [row["url_key"] for row in rows if row["url_key"]], [row["title_key"] for row in rows]
        )
        fresh = [
            row
            for row in rows
            if row["title_key"] not in known_titles and row["url_key"] not in known_urls
        ]
        duplicates += len(rows) - len(fresh)
        if not fresh:
            return StoreResult([], duplicates, untitled)
        tagger = SymbolTagger(Known(*known) for known in await repository.instruments())
        scores = _sentiment(
            [f"{row['title']}. {row['summary'] or ''}".strip() for row in fresh], sentiment_model
        )
        new_ids: list[int] = []
        for row, score in zip(fresh, scores, strict=True):
            provider_symbols = row.pop("provider_symbols")
            text = f"{row['title']}\n{row['summary'] or ''}"
            row["symbols"] = list(tagger.tag(text, provider_symbols))
            row.update(_sentiment_columns(score))
            new_id = await repository.insert(row)
            if new_id is None:
                duplicates += 1
            else:
                new_ids.append(new_id)
        await session.flush()
        stored = await self.by_ids(session, new_ids)
        await emit(session, bus, [event for item in stored for event in NewsPublished.of(item)])
        return StoreResult(new_ids, duplicates, untitled)

    async def by_ids(self, session: AsyncSession, ids: Sequence[int]) -> list[NewsArticle]:
        return await NewsRepository(session).by_ids(ids)

    async def get(self, session: AsyncSession, news_id: int) -> NewsArticle:
        item = await session.get(NewsArticle, news_id)
        if item is None:
            raise NewsNotFound(f"no news item {news_id}")
        return item

    async def page(
        self,
        session: AsyncSession,
        *,
        symbol: str | None = None,
        since: datetime | None = None,
        q: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> NewsPage:
        """Newest first; `q`'s words must each appear in the title or the summary (any case)."""
        words = tuple(dict.fromkeys((q or "").split()))
        if len(words) > MAX_QUERY_WORDS:
            raise Unprocessable(
                "too many words in q",
                errors=[field_error(["query", "q"], f"at most {MAX_QUERY_WORDS} words")],
            )
        where = NewsFilter(
            symbol=symbol.upper() if symbol else None,
            since=since,
            words=words,
            after=_after(cursor) if cursor else None,
        )
        rows = await NewsRepository(session).page(where, limit + 1)
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = page[-1]
            next_cursor = encode_cursor(f"{int(last.published_at.timestamp())}:{last.id}")
        return NewsPage(page, next_cursor)

    async def count(self, session: AsyncSession) -> int:
        return await NewsRepository(session).count_all()


def _after(cursor: str) -> tuple[datetime, int]:
    key = str(decode_cursor(cursor))
    stamp, _, ident = key.partition(":")
    try:
        return datetime.fromtimestamp(int(stamp), UTC), int(ident)
    except (ValueError, OverflowError, OSError):
        raise Unprocessable(
            "cursor is not one this API issued",
            errors=[field_error(["query", "cursor"], "malformed cursor")],
        ) from None


news_service = NewsService()
