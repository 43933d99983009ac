"""SQL of /sentiment: news items of a symbol over a window (the news tables), and votes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.models import NewsArticle, NewsArticleSymbol
from quantdesk.models.sentiment import SentimentVote, VoteKind

# Items read for one answer at most (newest first): a 90-day window of a busy ticker.
MAX_ITEMS = 5_000


@dataclass(frozen=True, slots=True)
class NewsRow:
    id: int
    title: str
    summary: str | None
    url: str | None
    source: str
    provider: str
    published_at: datetime
    score: float | None
    label: str | None
    model: str | None
    hits: list[dict[str, Any]] | None


async def news_in_window(
    session: AsyncSession, symbol: str, start: datetime, end: datetime
) -> list[NewsRow]:
    a = NewsArticle
    statement = (
        select(
            a.id,
            a.title,
            a.summary,
            a.url,
            a.source,
            a.provider,
            a.published_at,
            a.sentiment_score,
            a.sentiment_label,
            a.sentiment_model,
            a.sentiment_hits,
        )
        .join(NewsArticleSymbol, NewsArticleSymbol.news_id == a.id)
        .where(
            NewsArticleSymbol.symbol == symbol,
            NewsArticleSymbol.published_at >= start,
            NewsArticleSymbol.published_at <= end,
        )
        .order_by(NewsArticleSymbol.published_at.desc(), a.id.desc())
        .limit(MAX_ITEMS)
    )
    rows = (await session.execute(statement)).all()
    return [NewsRow(*row) for row in rows]


async def latest_news_at(session: AsyncSession, symbol: str) -> datetime | None:
    statement = select(func.max(NewsArticleSymbol.published_at)).where(
        NewsArticleSymbol.symbol == symbol
    )
    value = (await session.execute(statement)).scalar_one_or_none()
    if isinstance(value, str):  # defensive: a driver handing back text
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


async def vote_counts(
    session: AsyncSession, symbol: str, first_day: date, last_day: date
) -> list[tuple[date, VoteKind, int]]:
    v = SentimentVote
    statement = (
        select(v.day, v.vote, func.count())
        .where(v.symbol == symbol, v.day >= first_day, v.day <= last_day)
        .group_by(v.day, v.vote)
    )
    return [(day, VoteKind(kind), int(n)) for day, kind, n in (await session.execute(statement))]


async def vote_of(session: AsyncSession, user_id: int, symbol: str, day: date) -> VoteKind | None:
    v = SentimentVote
    statement = select(v.vote).where(v.user_id == user_id, v.symbol == symbol, v.day == day)
    value = (await session.execute(statement)).scalar_one_or_none()
    return None if value is None else VoteKind(value)


async def upsert_vote(
    session: AsyncSession, *, user_id: int, symbol: str, day: date, vote: VoteKind, now: datetime
) -> None:
    """Insert the day's vote or replace it (one row per user, symbol and UTC day)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(SentimentVote).values(
        user_id=user_id, symbol=symbol, day=day, vote=vote, created_at=now, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "symbol", "day"],
        set_={"vote": statement.excluded.vote, "updated_at": statement.excluded.updated_at},
    )
    await session.execute(statement)
