"""The jobs dashboard figures: the runner's live view plus recorded run counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.jobs.lifecycle import JobRuntime
from quantdesk.jobs.registry import registered
from quantdesk.jobs.schemas import JobStats, ScheduledJobRead, WorkerRead
from quantdesk.jobs.service import job_run_service
from quantdesk.models import utcnow

STATS_WINDOW_HOURS = 24


async def collect_stats(session: AsyncSession, runtime: JobRuntime) -> JobStats:
    live = await runtime.runner.stats()
    runs = await job_run_service.counts(
        session, since=utcnow() - timedelta(hours=STATS_WINDOW_HOURS)
    )
    return JobStats(
        backend=live.backend,
        queues=live.queues,
        active=live.active,
        retries_waiting=live.retries_waiting,
        workers=[WorkerRead(name=w.name, ok=w.ok, active=w.active) for w in live.workers],
        workers_healthy=bool(live.workers) and all(w.ok for w in live.workers),
        window_hours=STATS_WINDOW_HOURS,
        runs=runs,
        registered=registered(),
        schedule=[
            ScheduledJobRead(
                name=job.name,
                cron=job.cron,
                timezone=job.timezone,
                next_run_at=job.next_run_at,
                runs_here=job.runs_here,
            )
            for job in runtime.schedule()
        ],
        errors=live.errors,
    )
