"""The jobs domain's own task: retention clean-up. Every other domain registers its tasks in
its own `tasks` module (`quantdesk.marketdata.tasks`, `quantdesk.signals.tasks`, ...), all
imported by `quantdesk.tasks.load_tasks()`."""

from __future__ import annotations

from quantdesk.jobs.registry import JobContext, task
from quantdesk.jobs.result import JobResult
from quantdesk.jobs.service import job_run_service
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")


@task("maintenance.cleanup")
async def cleanup(ctx: JobContext) -> JobResult:
    """Delete job runs, provider fetches, quarantined rows and alert events past retention;
    the result counts the rows deleted per table."""
    settings = ctx.settings
    async with ctx.db.session() as session:
        deleted = await job_run_service.purge(
            session,
            job_runs_days=settings.job_run_retention_days,
            provider_fetches_days=settings.provider_fetch_retention_days,
            quarantine_days=settings.quarantine_retention_days,
            alert_events_days=settings.alert_event_retention_days,
        )
    log.info("cleanup done", **deleted)
    return JobResult(counts=dict(deleted))
