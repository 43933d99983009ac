"""Backtest jobs (registered by import, `quantdesk.tasks`).

`backtest.run` executes one queued run, single or sweep, by id. The POST that created the run
enqueues it after its unit of work commits (`runner.enqueue_after_commit`), so the worker
always finds the row. The run's own row records progress and outcome (`execute` never raises
for a failed run), so the job is not retried: a run that is no longer `queued` is left alone.
"""

from __future__ import annotations

from quantdesk.backtest.service import backtest_service
from quantdesk.jobs.registry import JobContext, task

RUN_JOB = "backtest.run"


@task(RUN_JOB, max_retries=0)
async def run_backtest(ctx: JobContext, *, run_id: str) -> None:
    """Queued -> running -> completed | failed for run `run_id`."""
    await backtest_service.execute(ctx.db, ctx.settings, run_id)
