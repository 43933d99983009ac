"""Export jobs (registered by import, `quantdesk.tasks`).

`exports.run` produces one queued export by id; the POST that created it enqueues it after
its unit of work commits. The export's own row records progress and outcome, so the job is
not retried. `exports.purge` (daily, jobs/schedule.py) deletes exports and their files after
`exports_retention_days`.
"""

from __future__ import annotations

from quantdesk.exports.service import export_service
from quantdesk.jobs.registry import JobContext, task
from quantdesk.jobs.result import JobResult
from quantdesk.marketdata.job_runtime import job_event_bus

RUN_JOB = "exports.run"
PURGE_JOB = "exports.purge"


@task(RUN_JOB, max_retries=0)
async def run_export(ctx: JobContext, *, export_id: str) -> None:
    """Queued -> running -> completed | failed for export `export_id`."""
    async with job_event_bus(ctx) as bus:
        await export_service.execute(ctx.db, ctx.settings, export_id, bus)


@task(PURGE_JOB)
async def purge_exports(ctx: JobContext) -> JobResult:
    """Delete exports (records and files) older than `exports_retention_days`."""
    purged = await export_service.purge(ctx.db, ctx.settings)
    return JobResult(counts={"exports": purged})
