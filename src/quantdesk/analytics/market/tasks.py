"""`market.refresh`: rebuild the market snapshot and the overview relations (summary, movers,
sectors) from stored bars and quotes, in one transaction."""

from __future__ import annotations

from quantdesk.analytics.market.service import market_service
from quantdesk.db import Database
from quantdesk.jobs.registry import JobContext, task
from quantdesk.jobs.result import JobResult
from quantdesk.jobs.runner import JobRunner
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")


@task("market.refresh")
async def refresh_market(ctx: JobContext) -> JobResult:
    async with ctx.db.session() as session:
        outcome = await market_service.refresh(session, ctx.settings)
    log.info(
        "market refreshed",
        instruments=outcome.instruments,
        rows=outcome.snapshot_rows,
        qualifying=outcome.qualifying,
        duration_ms=round(outcome.duration_ms, 1),
    )
    result = JobResult(
        counts={
            "instruments": outcome.instruments,
            "snapshot_rows": outcome.snapshot_rows,
            "qualifying": outcome.qualifying,
        }
    )
    result.wrote("market_snapshot", outcome.snapshot_rows)
    return result


async def refresh_if_missing(db: Database, runner: JobRunner) -> bool:
    """At a serving process's start (with the scheduler on): queue market.refresh when no
    snapshot was ever built, so a fresh install's overview answers without waiting for the
    schedule. True when it queued one."""
    async with db.session() as session:
        if await market_service.has_snapshot(session):
            return False
    await runner.enqueue("market.refresh")
    return True
