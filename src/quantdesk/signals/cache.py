"""GET /signals/latest through the signals cache, and dropping it when signals change.

An unfiltered answer may hold any symbol, including one with no signal yet, so every entry
carries one fixed tag (`LATEST_TAG`) that any write of signals drops after its commit
(generate, refresh, evaluate); a per-symbol answer also carries the symbol's signals tag, so
new bars for the symbol drop it (`new_bars_tags`). The answer does not depend on the caller
(one scope, `read:tickers`, no per-user filtering): the key is the query alone.
"""

from __future__ import annotations

from typing import Any, TypedDict, cast

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import Database, after_commit_async
from quantdesk.infra.cache import Cache, CacheCategory, CacheStatus, installed_cache, symbol_tag
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.signals.repository import SignalFilter, SignalRepository
from quantdesk.signals.schemas import SignalRead


class LatestSignalsDocument(TypedDict):
    """`Page[SignalRead]` as JSON (what the cache keeps and the endpoint sends)."""

    data: list[dict[str, Any]]
    meta: dict[str, Any]  # ListMeta: count, next_cursor (always null: one page)


# Lower case: symbol tags upper-case the symbol, so no symbol's tag can equal it.
LATEST_TAG = "signals:latest"


async def latest_answer(
    database: Database, cache: Cache, *, filters: SignalFilter, limit: int
) -> tuple[LatestSignalsDocument, CacheStatus]:
    """The latest-signals page as a JSON document, through the signals cache (60 s, never
    served stale). A miss reads in its own unit of work, once however many callers ask."""
    key = f"latest|{filters!r}|{limit}"  # every filter field, whichever the endpoint sets
    tags = [LATEST_TAG]
    if filters.symbol is not None:
        tags.append(symbol_tag(CacheCategory.SIGNALS, filters.symbol))

    async def load() -> LatestSignalsDocument:
        async with database.session() as session:
            rows = await SignalRepository(session).latest(filters, limit=limit)
            data = [SignalRead.of(row) for row in rows]
        page = Page[SignalRead](data=data, meta=ListMeta(count=len(data), next_cursor=None))
        return cast(LatestSignalsDocument, page.model_dump(mode="json"))

    return await cache.get_or_compute(CacheCategory.SIGNALS, key, load, tags=tags)


def forget_latest_after_commit(session: AsyncSession) -> None:
    """Drop the cached latest signals once `session` commits (with the installed cache: the
    serving app's, or a job's, whose Redis backend reaches every API process)."""
    cache = installed_cache()
    if cache is not None:
        after_commit_async(session, lambda: cache.invalidate_tag(LATEST_TAG))
