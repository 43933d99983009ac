"""Reads behind /fx/compare and /fx/convert, each an index seek (the ECB history alone is
~200,000 rows, so nothing here scans a currency's history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import case, func, select

from quantdesk.kit.repository import Repository
from quantdesk.models import FxRate, FxRateKind


class FxQuoteRepository(Repository[FxRate]):
    model = FxRate

    async def sources(self, base: str, kind: FxRateKind = FxRateKind.MID) -> list[str]:
        """Every source with `kind` rates for `base`: one seek per source on
        ix_fx_rates_source_day (base, kind, source, day), never a scan of the history."""
        found: list[str] = []
        while True:
            statement = select(func.min(FxRate.source)).where(
                FxRate.base == base, FxRate.kind == kind
            )
            if found:
                statement = statement.where(FxRate.source > found[-1])
            source: str | None = (await self.session.execute(statement)).scalar()
            if source is None:
                return found
            found.append(source)

    async def latest_day(
        self, base: str, source: str, *, on_or_before: date | None, kind: FxRateKind
    ) -> date | None:
        statement = select(func.max(FxRate.day)).where(
            FxRate.base == base, FxRate.kind == kind, FxRate.source == source
        )
        if on_or_before is not None:
            statement = statement.where(FxRate.day <= on_or_before)
        day: date | None = (await self.session.execute(statement)).scalar()
        return day

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
        first on a tie: the reference rate)."""
        statement = select(FxRate).where(
            FxRate.base == base, FxRate.quote == quote, FxRate.kind == FxRateKind.MID
        )
        if on_or_before is not None:
            statement = statement.where(FxRate.day <= on_or_before)
        statement = statement.order_by(
            FxRate.day.desc(), case((FxRate.source == "ecb", 0), else_=1), FxRate.source
        ).limit(1)
        return (await self.session.execute(statement)).scalar_one_or_none()
