"""One attempt of one job, recorded: shared by the in-process runner and the Celery worker so
both write `job_runs` the same way (and the `jobs_total` / `job_duration_seconds` metrics, per
attempt that ran). The caller decides whether a failure is retried."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import emit
from quantdesk.infra.events.background import background_event_bus
from quantdesk.jobs.events import JobFailed
from quantdesk.jobs.registry import Enqueue, JobContext, PermanentJobError, TaskSpec
from quantdesk.jobs.result import JobResult, result_of
from quantdesk.jobs.service import describe_error, job_run_service
from quantdesk.models import JobStatus, utcnow
from quantdesk.observability.logging import get_logger
from quantdesk.observability.metrics import JOB_DURATION, JOBS

log = get_logger("quantdesk.jobs")


async def run_attempt(
    spec: TaskSpec,
    args: dict[str, Any],
    *,
    db: Database,
    settings: Settings,
    runner: str,
    task_id: str,
    attempt: int,
    retries_left: bool,
    enqueue: Enqueue,
) -> Any:
    """Run `spec` once and record the attempt; re-raises the task's error (after recording it
    as `retrying` when `retries_left` and the error is not permanent, else `failed`)."""
    try:
        async with db.session() as session:
            await job_run_service.started(
                session, name=spec.name, args=args, runner=runner, task_id=task_id, attempt=attempt
            )
    except asyncio.CancelledError:
        await asyncio.shield(
            _record(db, task_id, JobStatus.FAILED, "interrupted: shutting down", settings=settings)
        )
        raise
    context = JobContext(
        db=db,
        settings=settings,
        name=spec.name,
        task_id=task_id,
        attempt=attempt,
        enqueue=enqueue,
    )
    started = time.perf_counter()
    try:
        result = await spec.fn(context, **args)
    except asyncio.CancelledError:
        # Shut down mid-run: say so instead of leaving the row `running` forever.
        _observe(spec.name, JobStatus.FAILED, started)
        await asyncio.shield(
            _record(db, task_id, JobStatus.FAILED, "interrupted: shutting down", settings=settings)
        )
        raise
    except Exception as error:
        retry = retries_left and not isinstance(error, PermanentJobError)
        status = JobStatus.RETRYING if retry else JobStatus.FAILED
        _observe(spec.name, status, started)
        await _record(
            db, task_id, status, describe_error(error), result_of(error), settings=settings
        )
        log.warning(
            "job attempt failed",
            job=spec.name,
            task_id=task_id,
            attempt=attempt,
            status=status.value,
            error=describe_error(error),
        )
        raise
    outcome = result_of(result)
    status = (
        JobStatus.SKIPPED if outcome is not None and outcome.did_nothing else JobStatus.SUCCEEDED
    )
    seconds = _observe(spec.name, status, started)
    await _record(db, task_id, status, None, outcome)
    log.info(
        f"job {status.value}",
        job=spec.name,
        task_id=task_id,
        attempt=attempt,
        seconds=round(seconds, 3),
        **({"reason": outcome.reason} if outcome is not None and outcome.reason else {}),
    )
    # Celery stores what a task returns as JSON.
    return outcome.as_json() if outcome is not None else result


def _observe(name: str, status: JobStatus, started: float) -> float:
    """Count the attempt by its outcome and time it; `name` is a registered task (bounded)."""
    seconds = time.perf_counter() - started
    JOBS.labels(name, status.value).inc()
    JOB_DURATION.labels(name).observe(seconds)
    return seconds


async def _record(
    db: Database,
    task_id: str,
    status: JobStatus,
    error: str | None,
    result: JobResult | None = None,
    *,
    settings: Settings | None = None,
) -> None:
    # A database that is down must not hide the task's own error.
    try:
        if status is not JobStatus.FAILED or settings is None:
            async with db.session() as session:
                await job_run_service.finished(
                    session, task_id=task_id, status=status, error=error, result=result
                )
            return
        # A failure for good is announced (job_failed) in the transaction that records it.
        async with background_event_bus(settings) as bus, db.session() as session:
            run = await job_run_service.finished(
                session, task_id=task_id, status=status, error=error, result=result
            )
            if run is not None:
                failed_at = utcnow().isoformat().replace("+00:00", "Z")
                await emit(session, bus, [JobFailed(task_id, run.name, error, failed_at)])
    except Exception as failure:
        log.error("could not record job run", task_id=task_id, error=describe_error(failure))
