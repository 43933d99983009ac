"""Reads behind /fx/compare and /fx/convert, each an index seek (the ECB history alone is
~200,000 rows, so nothing here scans a currency's history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Date, Integer, String, bindparam, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.kit.repository import Repository
from quantdesk.models import FxRate, FxRateKind

# Every source's latest day for one (base, kind), and how many quotes it published that day, in
# one round trip of index seeks on ix_fx_rates_source_day (base, kind, source, day): the
# recursive part walks the distinct sources (a loose index scan; neither SQLite nor PostgreSQL
# does one for GROUP BY), the scalar subqueries seek each source's last day and count its rows.
_LATEST_BY_SOURCE = (
    text(
        """
        WITH RECURSIVE sources(source) AS (
            SELECT min(source) FROM fx_rates WHERE base = :base AND kind = :kind
            UNION ALL
            SELECT (SELECT min(f.source) FROM fx_rates f
                    WHERE f.base = :base AND f.kind = :kind AND f.source > sources.source)
            FROM sources WHERE sources.source IS NOT NULL
        ),
        latest(source, day) AS (
            SELECT source, (SELECT max(f.day) FROM fx_rates f
                            WHERE f.base = :base AND f.kind = :kind AND f.source = sources.source
                              AND f.day <= :until)
            FROM sources WHERE source IS NOT NULL
        )
        SELECT source, day, (SELECT count(*) FROM fx_rates f
                             WHERE f.base = :base AND f.kind = :kind
                               AND f.source = latest.source AND f.day = latest.day) AS quotes
        FROM latest WHERE day IS NOT NULL
        """
    )
    .bindparams(
        bindparam("base", type_=String),
        bindparam("kind", type_=String),
        bindparam("until", type_=Date),
    )
    .columns(source=String, day=Date, quotes=Integer)
)
FAR_FUTURE = date(9999, 12, 31)


async def latest_by_source(
    session: AsyncSession, base: str, kind: FxRateKind, *, on_or_before: date | None
) -> list[tuple[str, date, int]]:
    """(source, its latest day on or before the date, quotes that day) for each source with
    `kind` rates for `base`."""
    rows = await session.execute(
        _LATEST_BY_SOURCE,
        {"base": base, "kind": kind.value, "until": on_or_before or FAR_FUTURE},
    )
    return [(source, day, int(quotes)) for source, day, quotes in rows.all()]


class FxQuoteRepository(Repository[FxRate]):
    model = FxRate

    async def latest_by_source(
        self, base: str, kind: FxRateKind, *, on_or_before: date | None
    ) -> list[tuple[str, date, int]]:
        return await latest_by_source(self.session, base, kind, on_or_before=on_or_before)

    async def published(self, source: str, day: date, bases: Sequence[str]) -> Sequence[FxRate]:
        """Every rate (all kinds) `source` published on `day` for any of `bases`."""
        statement = select(FxRate).where(
            FxRate.base.in_(list(bases)),
            FxRate.kind.in_(list(FxRateKind)),
            FxRate.source == source,
            FxRate.day == day,
        )
        return (await self.session.execute(statement)).scalars().all()

    async def latest_quote(
        self, base: str, quote: str, *, on_or_before: date | None
    ) -> FxRate | None:
        """The newest mid rate of base/quote on or before the day, from any source (the ECB
        first on a tie: the reference rate). Two seeks: the day, then that day's rows (one
        ORDER BY over both would read the pair's whole history)."""
        latest = select(func.max(FxRate.day)).where(
            FxRate.base == base, FxRate.quote == quote, FxRate.kind == FxRateKind.MID
        )
        if on_or_before is not None:
            latest = latest.where(FxRate.day <= on_or_before)
        day: date | None = (await self.session.execute(latest)).scalar()
        if day is None:
            return None
        statement = (
            select(FxRate)
            .where(
                FxRate.base == base,
                FxRate.quote == quote,
                FxRate.day == day,
                FxRate.kind == FxRateKind.MID,
            )
            .order_by(case((FxRate.source == "ecb", 0), else_=1), FxRate.source)
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
