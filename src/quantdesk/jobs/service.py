"""Job-run records: every run of every job, whichever runner executed it.

A run is one row, found again by its task id: the row is written `queued` when the job is
enqueued (or `running` when a worker starts one nobody recorded, e.g. a beat tick), then
updated by each attempt. Retries and redeliveries (acks_late) keep the task id, so they update
the same row and count attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import NotFound
from quantdesk.jobs.repository import JobRunRepository, RetentionRepository
from quantdesk.jobs.result import JobResult
from quantdesk.kit.pagination import decode_int_cursor, split_page
from quantdesk.models import JobRun, JobStatus, utcnow

ERROR_MAX_CHARS = 2_000


class JobRunNotFound(NotFound):
    code = "job-run-not-found"

    def __init__(self, run_id: int) -> None:
        super().__init__(f"no job run {run_id}")


def describe_error(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text[: ERROR_MAX_CHARS - 1] + "…" if len(text) > ERROR_MAX_CHARS else text


class JobRunService:
    async def queued(
        self,
        session: AsyncSession,
        *,
        name: str,
        args: dict[str, Any],
        runner: str,
        task_id: str,
    ) -> JobRun:
        run = JobRun(
            name=name,
            args=args,
            status=JobStatus.QUEUED,
            runner=runner,
            task_id=task_id,
            attempts=0,
        )
        return await JobRunRepository(session).add(run)

    async def started(
        self,
        session: AsyncSession,
        *,
        name: str,
        args: dict[str, Any],
        runner: str,
        task_id: str,
        attempt: int,
    ) -> JobRun:
        repository = JobRunRepository(session)
        run = await repository.by_task_id(task_id)
        if run is None:
            run = JobRun(name=name, args=args, runner=runner, task_id=task_id)
            session.add(run)
        run.status = JobStatus.RUNNING
        # max(): a redelivered message (worker lost) may carry a stale retry count.
        run.attempts = max(attempt, (run.attempts or 0) + 1)
        run.started_at = utcnow()
        run.finished_at = None
        run.duration_s = None
        run.result = None
        await session.flush()
        return run

    async def finished(
        self,
        session: AsyncSession,
        *,
        task_id: str,
        status: JobStatus,
        error: str | None = None,
        result: JobResult | None = None,
    ) -> JobRun | None:
        """Close an attempt: `succeeded`, `skipped` (nothing it could do), `failed`, or
        `retrying` (another attempt follows), with what it did."""
        run = await JobRunRepository(session).by_task_id(task_id)
        if run is None:
            return None
        now = utcnow()
        run.status = status
        run.error = error
        run.result = result.as_json() if result is not None else None
        run.finished_at = now if status is not JobStatus.RETRYING else None
        if run.started_at is not None:
            # The last attempt's running time; waits between attempts are not work.
            run.duration_s = (now - run.started_at).total_seconds()
        await session.flush()
        return run

    async def get(self, session: AsyncSession, run_id: int) -> JobRun:
        run = await JobRunRepository(session).get(run_id)
        if run is None:
            raise JobRunNotFound(run_id)
        return run

    async def search(
        self,
        session: AsyncSession,
        *,
        name: str | None = None,
        status: JobStatus | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> tuple[Sequence[JobRun], str | None]:
        before = decode_int_cursor(cursor) if cursor else None
        rows = await JobRunRepository(session).search(
            name=name, status=status, before_id=before, limit=limit + 1
        )
        return split_page(rows, limit, lambda run: run.id)

    async def counts(self, session: AsyncSession, *, since: datetime) -> dict[str, int]:
        found = await JobRunRepository(session).status_counts(since=since)
        return {status.value: found.get(status, 0) for status in JobStatus}

    async def purge(
        self,
        session: AsyncSession,
        *,
        job_runs_days: int,
        provider_fetches_days: int,
        quarantine_days: int,
        alert_events_days: int,
    ) -> dict[str, int]:
        now = utcnow()
        retention = RetentionRepository(session)
        # Quarantined rows first: they point at the fetches they came from.
        quarantined = await retention.delete_quarantined_before(
            now - timedelta(days=quarantine_days)
        )
        fetches = await retention.delete_fetches_before(now - timedelta(days=provider_fetches_days))
        runs = await JobRunRepository(session).delete_created_before(
            now - timedelta(days=job_runs_days)
        )
        alerts = await retention.delete_alert_events_before(now - timedelta(days=alert_events_days))
        return {
            "job_runs": runs,
            "provider_fetches": fetches,
            "quarantined_rows": quarantined,
            "alert_events": alerts,
        }


job_run_service = JobRunService()
