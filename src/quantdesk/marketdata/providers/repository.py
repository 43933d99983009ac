"""SQL for fetch records and quarantined rows (tables in quantdesk/models/pipeline.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select

from quantdesk.kit.repository import Repository
from quantdesk.marketdata.providers.quality import Rejected
from quantdesk.models import ProviderFetch, QuarantinedRow


def clip(text: str | None, length: int) -> str | None:
    return None if text is None else text[:length]


class ProviderFetchRepository(Repository[ProviderFetch]):
    model = ProviderFetch

    async def add_with_quarantine(
        self, fetch: ProviderFetch, rejected: Sequence[Rejected]
    ) -> ProviderFetch:
        """The fetch row and every row it quarantined, in the caller's transaction."""
        await self.add(fetch)
        if rejected:
            await self.session.execute(
                insert(QuarantinedRow),
                [
                    {
                        "fetch_id": fetch.id,
                        "provider": fetch.provider,
                        "kind": fetch.kind,
                        "subject": fetch.subject,
                        "ts": item.ts,
                        "reason": clip(item.reason, 200),
                        "row": item.row,
                    }
                    for item in rejected
                ],
            )
        return fetch

    async def recent(self, *, provider: str | None = None, limit: int = 50) -> list[ProviderFetch]:
        statement = select(ProviderFetch).order_by(ProviderFetch.id.desc()).limit(limit)
        if provider is not None:
            statement = statement.where(ProviderFetch.provider == provider)
        return list((await self.session.scalars(statement)).all())

    async def health_window(self, provider: str, *, limit: int) -> list[ProviderFetch]:
        """The provider's last `limit` fetches that say something about its health."""
        statement = (
            select(ProviderFetch)
            .where(ProviderFetch.provider == provider, ProviderFetch.healthy.is_not(None))
            .order_by(ProviderFetch.started_at.desc(), ProviderFetch.id.desc())
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def last_health_outcome(self, provider: str, *, healthy: bool) -> ProviderFetch | None:
        """The provider's newest fetch that succeeded (`healthy`) or failed."""
        statement = (
            select(ProviderFetch)
            .where(ProviderFetch.provider == provider, ProviderFetch.healthy.is_(healthy))
            .order_by(ProviderFetch.started_at.desc(), ProviderFetch.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(statement)).first()

    async def quarantined(self, fetch_id: int) -> list[QuarantinedRow]:
        statement = (
            select(QuarantinedRow)
            .where(QuarantinedRow.fetch_id == fetch_id)
            .order_by(QuarantinedRow.id)
        )
        return list((await self.session.scalars(statement)).all())
