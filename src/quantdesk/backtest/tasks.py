"""Backtest jobs (registered by import, `quantdesk.tasks`).

`backtest.run` executes one queued run, single or sweep, by id. The POST that created the run
enqueues it after its unit of work commits (`runner.enqueue_after_commit`), so the worker
always finds the row. The run's own row records progress and outcome (`execute` never raises
for a failed run), so the job is not retried: a run that is no longer `queued` is left alone.

A sweep is split into chunks (backtest/sweeps.py). With the Celery runner each chunk is a
`backtest.sweep_chunk` job that `backtest.run` enqueues; the in-process runner applies the
chunks in turn inside `backtest.run`. A chunk job is retried (a database blip); when it
cannot succeed (bad input, changed bars, its last attempt) the run is recorded as failed.
"""

from __future__ import annotations

from quantdesk.backtest import sweeps
from quantdesk.backtest.service import _announce, _describe, backtest_service
from quantdesk.errors import AppError
from quantdesk.jobs.registry import JobContext, PermanentJobError, task

RUN_JOB = "backtest.run"
CHUNK_JOB = sweeps.CHUNK_JOB
CHUNK_RETRIES = 2


@task(RUN_JOB, max_retries=0)
async def run_backtest(ctx: JobContext, *, run_id: str) -> None:
    """Queued -> running -> completed | failed for run `run_id`."""
    fan_out = ctx.enqueue if ctx.settings.jobs_backend == "celery" else None
    await backtest_service.execute(ctx.db, ctx.settings, run_id, fan_out=fan_out)


@task(CHUNK_JOB, max_retries=CHUNK_RETRIES)
async def run_sweep_chunk(ctx: JobContext, *, run_id: str, chunk_no: int) -> None:
    """Apply chunk `chunk_no` of sweep `run_id` (once; the last one completes the run)."""
    try:
        await sweeps.apply_chunk(
            ctx.db,
            ctx.settings,
            run_id,
            chunk_no,
            inputs=backtest_service.inputs,
            announce=_announce,
        )
    except Exception as error:
        final = isinstance(error, AppError | ValueError) or ctx.attempt > CHUNK_RETRIES
        if not final:
            raise
        await backtest_service._fail(ctx.db, run_id, _describe(error, run_id))
        raise PermanentJobError(f"sweep {run_id} chunk {chunk_no}: {error}") from error
