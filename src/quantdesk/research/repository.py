"""Research reads: stored fundamentals periods of a symbol (newest first). The snapshots are
written by the reference-data jobs and the demo; research only reads them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.models import FundamentalsSnapshot, Watchlist, WatchlistItem


async def fundamentals_periods(
    session: AsyncSession, symbol: str, limit: int = 20
) -> Sequence[FundamentalsSnapshot]:
    statement = (
        select(FundamentalsSnapshot)
        .where(FundamentalsSnapshot.symbol == symbol)
        .order_by(FundamentalsSnapshot.as_of.desc())
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def watchlist_symbols(session: AsyncSession, watchlist_id: str) -> list[str] | None:
    """The symbols of a watchlist (None: no such watchlist)."""
    found = await session.get(Watchlist, watchlist_id)
    if found is None:
        return None
    statement = (
        select(WatchlistItem.symbol)
        .where(WatchlistItem.watchlist_id == watchlist_id)
        .order_by(WatchlistItem.symbol)
    )
    return list((await session.execute(statement)).scalars().all())
