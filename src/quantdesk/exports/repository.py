"""SQL for export records. Reads are scoped to the owner: another user's export is not found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from quantdesk.kit.repository import Repository
from quantdesk.models import Export, ExportStatus


class ExportRepository(Repository[Export]):
    model = Export

    async def owned(self, export_id: str, user_id: int) -> Export | None:
        statement = select(Export).where(Export.id == export_id, Export.user_id == user_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def by_id(self, export_id: str) -> Export | None:
        return await self.session.get(Export, export_id)

    async def owned_page(
        self, user_id: int, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[Export]:
        """Up to ``limit`` of the user's exports, newest first, after the (created_at, id)
        of the last one served."""
        statement = (
            select(Export)
            .where(Export.user_id == user_id)
            .order_by(Export.created_at.desc(), Export.id.desc())
            .limit(limit)
        )
        if after is not None:
            created, export_id = after
            statement = statement.where(
                or_(
                    Export.created_at < created,
                    and_(Export.created_at == created, Export.id < export_id),
                )
            )
        return list((await self.session.execute(statement)).scalars())

    async def active_count(self, user_id: int) -> int:
        statement = select(func.count()).where(
            Export.user_id == user_id,
            Export.status.in_([ExportStatus.QUEUED, ExportStatus.RUNNING]),
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def set_values(
        self, export_id: str, *, only_from: ExportStatus | None = None, **values: Any
    ) -> bool:
        """UPDATE one export; with ``only_from``, only while it is in that status. True when
        a row changed (False: it was deleted meanwhile, or is not in ``only_from``)."""
        statement = update(Export).where(Export.id == export_id).values(**values)
        if only_from is not None:
            statement = statement.where(Export.status == only_from)
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def remove(self, export_id: str) -> None:
        await self.session.execute(delete(Export).where(Export.id == export_id))

    async def older_than(self, moment: datetime, limit: int) -> list[tuple[str, str | None]]:
        """(id, storage key) of exports created before ``moment``, oldest first."""
        statement = (
            select(Export.id, Export.storage_key)
            .where(Export.created_at < moment)
            .order_by(Export.created_at)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in await self.session.execute(statement)]
