"""SQL for reference data: natural-key upserts (a re-fetch replaces, never duplicates) and the
reads behind the endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.kit.repository import Repository
from quantdesk.marketdata.fx.repository import latest_by_source
from quantdesk.models import (
    Base,
    FundamentalsSnapshot,
    FxRate,
    FxRateKind,
    SeriesKind,
    SeriesObservation,
)

# Rows per INSERT: well under SQLite's 32,766 bound parameters at six columns a row.
UPSERT_CHUNK_ROWS = 1_000


async def upsert_rows(
    session: AsyncSession, model: type[Base], rows: Sequence[dict[str, Any]]
) -> int:
    """Insert `rows`, replacing the non-key columns of rows whose primary key exists."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__
    assert isinstance(table, Table)
    keys = [column.name for column in table.primary_key.columns]
    for offset in range(0, len(rows), UPSERT_CHUNK_ROWS):
        chunk = rows[offset : offset + UPSERT_CHUNK_ROWS]
        statement = insert(table).values(list(chunk))
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={name: statement.excluded[name] for name in chunk[0] if name not in keys},
        )
        await session.execute(statement)
    return len(rows)


class FxRateRepository(Repository[FxRate]):
    model = FxRate

    async def latest_by_source(
        self, base: str, *, on_or_before: date | None, kind: FxRateKind = FxRateKind.MID
    ) -> list[tuple[str, date, int]]:
        """(source, its latest day, how many quotes it published that day) for each source
        with `kind` rates for `base` (on or before `on_or_before`): index seeks only."""
        return await latest_by_source(self.session, base, kind, on_or_before=on_or_before)

    async def on_day(
        self, base: str, day: date, *, source: str, kind: FxRateKind = FxRateKind.MID
    ) -> Sequence[FxRate]:
        statement = select(FxRate).where(
            FxRate.base == base,
            FxRate.day == day,
            FxRate.source == source,
            FxRate.kind == kind,
        )
        # Sorted here: an ORDER BY quote makes SQLite walk the primary key (every day of the
        # base) instead of seeking ix_fx_rates_source_day.
        rows = (await self.session.execute(statement)).scalars().all()
        return sorted(rows, key=lambda row: row.quote)


class SeriesRepository(Repository[SeriesObservation]):
    model = SeriesObservation

    async def providers(self, kind: SeriesKind, series_id: str) -> list[tuple[str, datetime]]:
        """(provider, last fetched_at) for each provider that supplied the series."""
        statement = (
            select(SeriesObservation.provider, func.max(SeriesObservation.fetched_at))
            .where(SeriesObservation.kind == kind, SeriesObservation.series_id == series_id)
            .group_by(SeriesObservation.provider)
        )
        rows = (await self.session.execute(statement)).all()
        return [(provider, fetched_at) for provider, fetched_at in rows]

    async def page(
        self,
        kind: SeriesKind,
        series_id: str,
        *,
        start: date | None,
        end: date | None,
        after: date | None,
        limit: int,
    ) -> Sequence[SeriesObservation]:
        statement = (
            select(SeriesObservation)
            .where(SeriesObservation.kind == kind, SeriesObservation.series_id == series_id)
            .order_by(SeriesObservation.day)
            .limit(limit)
        )
        if start is not None:
            statement = statement.where(SeriesObservation.day >= start)
        if end is not None:
            statement = statement.where(SeriesObservation.day <= end)
        if after is not None:
            statement = statement.where(SeriesObservation.day > after)
        return (await self.session.execute(statement)).scalars().all()


class FundamentalsRepository(Repository[FundamentalsSnapshot]):
    model = FundamentalsSnapshot

    async def latest(self, symbol: str) -> FundamentalsSnapshot | None:
        statement = (
            select(FundamentalsSnapshot)
            .where(FundamentalsSnapshot.symbol == symbol)
            .order_by(FundamentalsSnapshot.as_of.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
