"""SQL for job runs and the retention clean-up of pipeline records and alert history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from quantdesk.kit.repository import Repository
from quantdesk.models import AlertEvent, JobRun, JobStatus, ProviderFetch, QuarantinedRow


class JobRunRepository(Repository[JobRun]):
    model = JobRun

    async def by_task_id(self, task_id: str) -> JobRun | None:
        result = await self.session.execute(
            select(JobRun).where(JobRun.task_id == task_id).order_by(JobRun.id.desc()).limit(1)
        )
        return result.scalar_one_or_none()

    async def search(
        self,
        *,
        name: str | None,
        status: JobStatus | None,
        before_id: int | None,
        limit: int,
    ) -> Sequence[JobRun]:
        """Newest first; `before_id` continues a page."""
        query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
        if name is not None:
            query = query.where(JobRun.name == name)
        if status is not None:
            query = query.where(JobRun.status == status)
        if before_id is not None:
            query = query.where(JobRun.id < before_id)
        return (await self.session.scalars(query)).all()

    async def status_counts(self, *, since: datetime) -> dict[JobStatus, int]:
        rows = await self.session.execute(
            select(JobRun.status, func.count())
            .where(JobRun.created_at >= since)
            .group_by(JobRun.status)
        )
        return {JobStatus(status): int(count) for status, count in rows.all()}

    async def delete_created_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(JobRun).where(JobRun.created_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class RetentionRepository(Repository[ProviderFetch]):
    """Old provider-fetch and quarantine records (the pipeline's audit trail) and alert events
    (the performance monitor's history) expire."""

    model = ProviderFetch

    async def delete_fetches_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(ProviderFetch).where(ProviderFetch.started_at < cutoff)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_quarantined_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(QuarantinedRow).where(QuarantinedRow.created_at < cutoff)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def delete_alert_events_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(AlertEvent).where(AlertEvent.created_at < cutoff)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
