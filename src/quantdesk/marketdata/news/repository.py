"""SQL for news: inserts that skip duplicates (by URL or normalized title) and keyset pages
newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from quantdesk.kit.repository import Repository
from quantdesk.models import Instrument, NewsArticle, NewsArticleSymbol

KEY_CHUNK = 400  # keys per IN (...) list


@dataclass(frozen=True)
class NewsFilter:
    symbol: str | None = None
    since: datetime | None = None
    words: tuple[str, ...] = ()  # each must appear in the title or the summary
    after: tuple[datetime, int] | None = None  # keyset: (published_at, id) of the last row


def _like(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class NewsRepository(Repository[NewsArticle]):
    model = NewsArticle

    async def known_keys(
        self, url_keys: Sequence[str], title_keys: Sequence[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these URL and title keys are stored already."""
        urls: set[str] = set()
        titles: set[str] = set()
        for column, keys, found in (
            (NewsArticle.url_key, list(url_keys), urls),
            (NewsArticle.title_key, list(title_keys), titles),
        ):
            for offset in range(0, len(keys), KEY_CHUNK):
                chunk = keys[offset : offset + KEY_CHUNK]
                rows = await self.session.scalars(select(column).where(column.in_(chunk)))
                found.update(key for key in rows if key is not None)
        return urls, titles

    async def insert(self, row: dict[str, Any]) -> int | None:
        """The new row's id, or None when a concurrent writer stored the same story first
        (either unique key): skipped, never an error that rolls back the batch."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        statement = (
            insert(NewsArticle).values(**row).on_conflict_do_nothing().returning(NewsArticle.id)
        )
        new_id = (await self.session.execute(statement)).scalar_one_or_none()
        if new_id is not None and row["symbols"]:
            self.session.add_all(
                NewsArticleSymbol(news_id=new_id, symbol=symbol, published_at=row["published_at"])
                for symbol in row["symbols"]
            )
        return new_id

    async def by_ids(self, ids: Sequence[int]) -> list[NewsArticle]:
        if not ids:
            return []
        found = await self.session.scalars(
            select(NewsArticle).where(NewsArticle.id.in_(list(ids))).order_by(NewsArticle.id)
        )
        return list(found)

    async def instruments(self) -> list[tuple[str, str, str]]:
        """(symbol, name, asset class) of every active instrument, for tagging."""
        rows = await self.session.execute(
            select(Instrument.symbol, Instrument.name, Instrument.asset_class).where(
                Instrument.active.is_(True)
            )
        )
        return [(symbol, name, str(asset.value)) for symbol, name, asset in rows]

    def _query(self, where: NewsFilter) -> Select[NewsArticle]:
        if where.symbol is not None:
            link = NewsArticleSymbol
            published, ident = link.published_at, link.news_id
            query = (
                select(NewsArticle)
                .join(link, link.news_id == NewsArticle.id)
                .where(link.symbol == where.symbol)
            )
        else:
            published, ident = NewsArticle.published_at, NewsArticle.id
            query = select(NewsArticle)
        if where.since is not None:
            query = query.where(published >= where.since)
        for word in where.words:
            pattern = _like(word)
            query = query.where(
                or_(
                    func.lower(NewsArticle.title).like(pattern, escape="\\"),
                    func.lower(func.coalesce(NewsArticle.summary, "")).like(pattern, escape="\\"),
                )
            )
        if where.after is not None:
            last_published, last_id = where.after
            query = query.where(
                or_(published < last_published, and_(published == last_published, ident < last_id))
            )
        return query.order_by(published.desc(), ident.desc())

    async def page(self, where: NewsFilter, limit: int) -> list[NewsArticle]:
        return list(await self.session.scalars(self._query(where).limit(limit)))

    async def count_all(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(NewsArticle)) or 0)
