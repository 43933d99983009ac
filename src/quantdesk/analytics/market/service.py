"""Market overview and screener: the refresh that rebuilds the snapshot and its derived
relations, and the reads over them (typed results; the endpoints stay thin)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.analytics.market import screener
from quantdesk.analytics.market.repository import MarketRepository
from quantdesk.analytics.market.schemas import (
    MoverKind,
    MoverRead,
    OverviewMeta,
    ScreenerMeta,
    ScreenerRequest,
    ScreenerRow,
    SectorRead,
    SummaryRead,
)
from quantdesk.analytics.market.snapshot import build_rows
from quantdesk.config import Settings
from quantdesk.models import MarketRefresh
from quantdesk.models.base import utcnow

PROVIDER = "quantdesk: computed from stored bars and quotes by the market.refresh job"
SESSION_RULE = (
    "each instrument's last complete UTC session (today's is excluded); counted when it is "
    "its asset class's latest session, with a change from the session before"
)
NEVER_REFRESHED = (
    "No market snapshot yet: run the market.refresh job (`quantdesk jobs run market.refresh`; "
    "`quantdesk demo load` runs it after loading the demo data). It runs at start-up when no "
    "snapshot exists, and then on its schedule."
)
NOTHING_QUALIFIES = (
    "No instrument qualifies: the overview needs stored daily or intraday bars (or quotes) "
    "with a completed session, a close of at least QUANTDESK_MARKET_MIN_PRICE and a volume of "
    "at least QUANTDESK_MARKET_MIN_VOLUME. Load bars (`quantdesk ingest`, the "
    "marketdata.fetch_bars job), then run market.refresh."
)


@dataclass(frozen=True)
class RefreshResult:
    instruments: int
    snapshot_rows: int
    qualifying: int
    duration_ms: float


class MarketService:
    async def refresh(
        self, session: AsyncSession, settings: Settings, *, today: date | None = None
    ) -> RefreshResult:
        """Rebuild the snapshot and the derived relations in the caller's transaction (readers
        see the previous state until it commits)."""
        started = time.perf_counter()
        repo = MarketRepository(session)
        instruments, rows = await build_rows(
            repo,
            today=today or utcnow().date(),
            sessions=settings.market_history_sessions,
            min_price=settings.market_min_price,
            min_volume=settings.market_min_volume,
            sentiment_days=settings.market_sentiment_days,
        )
        await repo.replace_snapshot(rows)
        await repo.refresh_derived()
        duration_ms = (time.perf_counter() - started) * 1000
        qualifying = sum(1 for row in rows if row["qualifies"])
        await repo.record_refresh(
            refreshed_at=utcnow(),
            duration_ms=duration_ms,
            instruments=len(instruments),
            snapshot_rows=len(rows),
            qualifying=qualifying,
            min_price=settings.market_min_price,
            min_volume=settings.market_min_volume,
        )
        return RefreshResult(len(instruments), len(rows), qualifying, duration_ms)

    async def _meta(
        self, repo: MarketRepository, count: int, record: MarketRefresh | None
    ) -> OverviewMeta:
        criteria: dict[str, float | str] = {"session": SESSION_RULE}
        if record is not None:
            criteria |= {"min_price": record.min_price, "min_volume": record.min_volume}
        message = None
        if record is None:
            message = NEVER_REFRESHED
        elif count == 0:
            message = NOTHING_QUALIFIES
        return OverviewMeta(
            count=count,
            provider=PROVIDER,
            refreshed_at=record.refreshed_at if record is not None else None,
            criteria=criteria,
            message=message,
        )

    async def has_snapshot(self, session: AsyncSession) -> bool:
        return await MarketRepository(session).last_refresh() is not None

    async def summary(
        self, session: AsyncSession, asset_class: str | None
    ) -> tuple[list[SummaryRead], OverviewMeta]:
        repo = MarketRepository(session)
        record = await repo.last_refresh()
        rows = await repo.summaries(asset_class) if record is not None else []
        data = [SummaryRead(**_dated(row)) for row in rows]
        return data, await self._meta(repo, len(data), record)

    async def sectors(
        self, session: AsyncSession, asset_class: str
    ) -> tuple[list[SectorRead], OverviewMeta]:
        repo = MarketRepository(session)
        record = await repo.last_refresh()
        rows = await repo.sectors(asset_class) if record is not None else []
        data = [SectorRead(**_dated(row)) for row in rows]
        return data, await self._meta(repo, len(data), record)

    async def movers(
        self,
        session: AsyncSession,
        kind: MoverKind,
        asset_class: str | None,
        limit: int,
    ) -> tuple[list[MoverRead], OverviewMeta]:
        repo = MarketRepository(session)
        record = await repo.last_refresh()
        rows = await repo.movers(kind, asset_class, limit) if record is not None else []
        rank = "rank_all" if asset_class is None else "rank_class"
        data = [MoverRead(rank=row[rank], **_dated(row)) for row in rows]
        return data, await self._meta(repo, len(data), record)

    async def screen(
        self, session: AsyncSession, request: ScreenerRequest
    ) -> tuple[list[ScreenerRow], ScreenerMeta]:
        conditions = [
            screener.condition(index, item.field, item.op, item.value)
            for index, item in enumerate(request.filters)
        ]
        sort = screener.Sort.parse(request.sort)
        signature = [(item.field, item.op, item.value) for item in request.filters]
        query = screener.query_hash(signature, sort, request.include_stale)
        after = (
            screener.decode_position(request.cursor, query) if request.cursor is not None else None
        )
        base = screener.base_statement(conditions, request.include_stale)
        total = await session.scalar(select(func.count()).select_from(base.subquery()))
        rows = list((await session.scalars(screener.paged(base, sort, after, request.limit))).all())
        page = rows[: request.limit]
        next_cursor = None
        if len(rows) > request.limit:
            last = page[-1]
            next_cursor = screener.encode_position(
                query, getattr(last, sort.field), last.instrument_id
            )
        data = [
            ScreenerRow.model_validate(
                {
                    **{
                        key: getattr(row, key) for key in ScreenerRow.model_fields if key != "as_of"
                    },
                    "as_of": row.session,
                }
            )
            for row in page
        ]
        repo = MarketRepository(session)
        meta = await self._meta(repo, total or 0, await repo.last_refresh())
        return data, ScreenerMeta(
            **(meta.model_dump() | {"count": len(data)}),
            total=total or 0,
            next_cursor=next_cursor,
        )


def _dated(row: Any) -> dict[str, Any]:
    """A derived relation's row with `session` served as `as_of` (a date on both databases)."""
    values = dict(row)
    session = values.pop("session")
    values["as_of"] = session if isinstance(session, date) else date.fromisoformat(str(session))
    return values


market_service = MarketService()
