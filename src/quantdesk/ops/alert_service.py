"""Alert history: the `alert_events` rows the performance monitor writes, and their search."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import Unprocessable, field_error
from quantdesk.kit.pagination import decode_cursor, split_page
from quantdesk.kit.repository import Repository
from quantdesk.models import AlertEvent, AlertLevel


def _alert_id(key: str | int) -> int:
    if not isinstance(key, int):
        raise Unprocessable(errors=[field_error(["query", "cursor"], "malformed cursor")])
    return key


class AlertRepository(Repository[AlertEvent]):
    model = AlertEvent

    async def search(
        self,
        *,
        metric: str | None,
        level: AlertLevel | None,
        before_id: int | None,
        limit: int,
    ) -> Sequence[AlertEvent]:
        """Newest first; `before_id` continues a page."""
        query = select(AlertEvent).order_by(AlertEvent.id.desc()).limit(limit)
        if metric is not None:
            query = query.where(AlertEvent.metric == metric)
        if level is not None:
            query = query.where(AlertEvent.level == level)
        if before_id is not None:
            query = query.where(AlertEvent.id < before_id)
        return (await self.session.scalars(query)).all()

    async def set_deliveries(self, alert_id: int, deliveries: list[dict[str, Any]]) -> None:
        await self.session.execute(
            update(AlertEvent).where(AlertEvent.id == alert_id).values(deliveries=deliveries)
        )


class AlertService:
    async def record(
        self,
        session: AsyncSession,
        *,
        metric: str,
        level: AlertLevel,
        previous_level: AlertLevel,
        value: float | None,
        threshold: float | None,
        message: str,
        instance: str,
        details: dict[str, Any],
        created_at: datetime,
    ) -> AlertEvent:
        event = AlertEvent(
            metric=metric,
            level=level,
            previous_level=previous_level,
            value=value,
            threshold=threshold,
            message=message[:500],
            instance=instance[:128],
            details=details,
            deliveries=[],
            created_at=created_at,
        )
        return await AlertRepository(session).add(event)

    async def set_deliveries(
        self, session: AsyncSession, alert_id: int, deliveries: list[dict[str, Any]]
    ) -> None:
        await AlertRepository(session).set_deliveries(alert_id, deliveries)

    async def search(
        self,
        session: AsyncSession,
        *,
        metric: str | None = None,
        level: AlertLevel | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> tuple[Sequence[AlertEvent], str | None]:
        before = _alert_id(decode_cursor(cursor)) if cursor else None
        rows = await AlertRepository(session).search(
            metric=metric, level=level, before_id=before, limit=limit + 1
        )
        return split_page(rows, limit, lambda event: event.id)


alert_service = AlertService()
