"""Reference-data services: store what the provider chains answer, read it back for the API.

Provider results are in epoch seconds (UTC); stored days are calendar dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypedDict

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import Database, after_commit_async
from quantdesk.errors import NotFound, Unprocessable, field_error
from quantdesk.infra.cache import Cache, CacheCategory, CacheStatus, symbol_tag
from quantdesk.kit.pagination import decode_cursor, encode_cursor
from quantdesk.kit.timeutil import iso_z
from quantdesk.marketdata.providers.base import Fundamentals, FxRates, Series
from quantdesk.marketdata.reference.repository import (
    FundamentalsRepository,
    FxRateRepository,
    SeriesRepository,
    upsert_rows,
)
from quantdesk.models import (
    FundamentalsSnapshot,
    FxRate,
    FxRateKind,
    SeriesKind,
    SeriesObservation,
    utcnow,
)


def day_of(epoch_seconds: int) -> date:
    return datetime.fromtimestamp(epoch_seconds, UTC).date()


def provider_label(providers: Sequence[str]) -> str:
    return ",".join(sorted(set(providers)))


class FxRatesNotFound(NotFound):
    code = "fx-rates-not-found"


class SeriesNotFound(NotFound):
    code = "series-not-found"


class FundamentalsNotFound(NotFound):
    code = "fundamentals-not-found"


class FundamentalsDocument(TypedDict):
    """The latest snapshot as the API serves it (and the cache keeps it): JSON-ready."""

    symbol: str
    as_of: str  # ISO date, the end of the reported period
    values: dict[str, Any]  # line items by name, as the provider reported them
    provider: str
    fetched_at: str  # ISO-8601 with Z


@dataclass(frozen=True)
class FxRateSet:
    base: str
    day: date
    rates: dict[str, float]
    provider: str
    fetched_at: datetime


@dataclass(frozen=True)
class SeriesPage:
    series_id: str
    rows: list[SeriesObservation]
    next_cursor: str | None
    provider: str
    fetched_at: datetime


class FxRateService:
    async def store(
        self,
        session: AsyncSession,
        *,
        rates: FxRates,
        provider: str,
        fetched_at: datetime | None = None,
        source: str | None = None,
        kind: FxRateKind = FxRateKind.MID,
    ) -> int:
        """Upsert every rate of one publication (same base, quote, day, kind and source:
        replaced). `source` is the publisher, by default the provider that answered."""
        fetched_at = fetched_at or utcnow()
        day = day_of(rates.as_of)
        rows = [
            {
                "base": rates.base.upper(),
                "quote": quote.upper(),
                "day": day,
                "kind": kind,
                "source": (source or provider)[:32],
                "rate": rate,
                "provider": provider,
                "fetched_at": fetched_at,
            }
            for quote, rate in rates.rates.items()
            if quote.upper() != rates.base.upper()
        ]
        return await upsert_rows(session, FxRate, rows)

    async def rates(
        self, session: AsyncSession, *, base: str, on: date | None, source: str | None = None
    ) -> FxRateSet:
        """The latest stored mid rates for `base`, or those in force on `on`: the last
        publication on or before it (central banks publish nothing on weekends and holidays).
        One source's publication: `source`, else the one quoting the most currencies on its
        latest day (then the newest, then by name), so a source that quotes `base` against
        one currency (BAM: MAD) does not hide the reference table."""
        base = base.upper()
        repository = FxRateRepository(session)
        found = await repository.latest_by_source(base, on_or_before=on)
        if source is not None:
            found = [entry for entry in found if entry[0] == source.lower()]
        if not found:
            when = f" on or before {on.isoformat()}" if on else ""
            by = f" from source {source.lower()!r}" if source else ""
            raise FxRatesNotFound(f"no stored FX rates for base {base}{by}{when}")
        chosen, day, _ = max(found, key=lambda entry: (entry[2], entry[1], entry[0]))
        rows = await repository.on_day(base, day, source=chosen)
        return FxRateSet(
            base=base,
            day=day,
            rates={row.quote: row.rate for row in rows},
            provider=provider_label([row.provider for row in rows]),
            fetched_at=max(row.fetched_at for row in rows),
        )


class SeriesService:
    async def store(
        self,
        session: AsyncSession,
        *,
        kind: SeriesKind,
        series: Series,
        provider: str,
        fetched_at: datetime | None = None,
    ) -> int:
        fetched_at = fetched_at or utcnow()
        series_id = series.series_id.strip().upper()
        rows = [
            {
                "kind": kind,
                "series_id": series_id,
                "day": day_of(int(ts)),
                "value": float(value),
                "provider": provider,
                "fetched_at": fetched_at,
            }
            for ts, value in zip(series.ts.tolist(), series.values.tolist(), strict=True)
        ]
        return await upsert_rows(session, SeriesObservation, rows)

    async def observations(
        self,
        session: AsyncSession,
        *,
        kind: SeriesKind,
        series_id: str,
        start: date | None = None,
        end: date | None = None,
        cursor: str | None = None,
        limit: int = 1_000,
    ) -> SeriesPage:
        """Observations oldest first, `limit` at a time; the cursor is the last day served."""
        series_id = series_id.strip().upper()
        after = _cursor_day(cursor) if cursor else None
        repository = SeriesRepository(session)
        providers = await repository.providers(kind, series_id)
        if not providers:
            raise SeriesNotFound(f"no stored observations for series {series_id!r}")
        rows = list(
            await repository.page(
                kind, series_id, start=start, end=end, after=after, limit=limit + 1
            )
        )
        next_cursor = encode_cursor(rows[limit - 1].day.isoformat()) if len(rows) > limit else None
        return SeriesPage(
            series_id=series_id,
            rows=rows[:limit],
            next_cursor=next_cursor,
            provider=provider_label([name for name, _ in providers]),
            fetched_at=max(fetched_at for _, fetched_at in providers),
        )


def _cursor_day(cursor: str) -> date:
    key = decode_cursor(cursor)
    try:
        return date.fromisoformat(str(key))
    except ValueError:
        raise Unprocessable(
            "cursor is not one this API issued",
            errors=[field_error(["query", "cursor"], "malformed cursor")],
        ) from None


class FundamentalsService:
    async def store(
        self,
        session: AsyncSession,
        *,
        fundamentals: Fundamentals,
        provider: str,
        fetched_at: datetime | None = None,
        cache: Cache | None = None,
    ) -> None:
        """Upsert the snapshot for its period; with a `cache`, the symbol's cached fundamentals
        are dropped once the transaction commits (not before: a reader could re-cache the old
        snapshot in between)."""
        symbol = fundamentals.symbol.upper()
        row = {
            "symbol": symbol,
            "as_of": day_of(fundamentals.as_of),
            "values": dict(fundamentals.values),
            "provider": provider,
            "fetched_at": fetched_at or utcnow(),
        }
        await upsert_rows(session, FundamentalsSnapshot, [row])
        if cache is not None:
            tag = symbol_tag(CacheCategory.FINANCIALS, symbol)
            after_commit_async(session, lambda: cache.invalidate_tag(tag))

    async def latest(
        self, database: Database, cache: Cache, symbol: str
    ) -> tuple[FundamentalsDocument, CacheStatus]:
        """The latest snapshot as a JSON-ready document, through the financials cache (1 h
        fresh, then stale for up to a day while one refresh runs)."""
        symbol = symbol.upper()

        async def load() -> FundamentalsDocument:
            # Its own unit of work: the read may outlive the request that started it.
            async with database.session() as session:
                snapshot = await FundamentalsRepository(session).latest(symbol)
            if snapshot is None:
                raise FundamentalsNotFound(f"no stored fundamentals for {symbol!r}")
            return {
                "symbol": snapshot.symbol,
                "as_of": snapshot.as_of.isoformat(),
                "values": snapshot.values,
                "provider": snapshot.provider,
                "fetched_at": iso_z(snapshot.fetched_at),
            }

        return await cache.get_or_compute(
            CacheCategory.FINANCIALS,
            symbol,
            load,
            tags=[symbol_tag(CacheCategory.FINANCIALS, symbol)],
        )


fx_rate_service = FxRateService()
series_service = SeriesService()
fundamentals_service = FundamentalsService()
