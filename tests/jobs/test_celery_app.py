"""The Celery app built from settings: delivery guarantees, one task per job, and a beat
schedule that reads the same cron settings as the in-process scheduler."""

from __future__ import annotations

import asyncio
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery

from quantdesk.config import ConfigError
from quantdesk.db import Database
from quantdesk.jobs.celery_app import CronSchedule, create_celery
from quantdesk.jobs.registry import JobContext, PermanentJobError, registered
from quantdesk.jobs.schedule import Cron, schedule_from_settings
from quantdesk.models import JobRun, JobStatus
from tests.conftest import make_settings
from tests.jobs.conftest import job_runs, register

MEMORY = "sqlite+aiosqlite:///:memory:"
BROKER = "redis://127.0.0.1:9/0"  # never contacted: building the app does not connect


def test_the_app_acks_late_and_speaks_json() -> None:
    app = create_celery(make_settings(MEMORY, redis_url=BROKER, celery_queue="qd"))
    conf = app.conf
    assert conf.broker_url == BROKER
    assert conf.result_backend == BROKER
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert (conf.task_serializer, conf.result_serializer) == ("json", "json")
    assert conf.accept_content == ["json"]
    assert conf.task_default_queue == "qd"


def test_every_registered_job_is_a_celery_task_with_backoff_retries() -> None:
    settings = make_settings(
        MEMORY, celery_broker_url=BROKER, jobs_max_retries=4, jobs_retry_backoff_seconds=3
    )
    app = create_celery(settings)
    assert set(registered()) <= set(app.tasks)
    fetch = app.tasks["marketdata.fetch_bars"]
    assert fetch.max_retries == 4
    assert getattr(fetch, "retry_backoff", None) == 3
    assert getattr(fetch, "retry_jitter", None) is False
    assert fetch.acks_late is True


def test_beat_runs_the_configured_schedule_in_the_configured_zone() -> None:
    settings = make_settings(
        MEMORY,
        redis_url=BROKER,
        jobs_timezone="Europe/Berlin",
        jobs_schedule={"marketdata.fetch_bars": "*/5 9-17 * * 1-5"},
    )
    app = create_celery(settings)
    beat = app.conf.beat_schedule
    expected = {e.name: e.cron for e in schedule_from_settings(settings, registered=registered())}
    assert set(beat) == set(expected)
    assert beat["marketdata.fetch_bars"]["task"] == "marketdata.fetch_bars"
    assert beat["marketdata.fetch_bars"]["schedule"] == CronSchedule(
        Cron("*/5 9-17 * * 1-5", "Europe/Berlin")
    )
    assert str(app.conf.timezone) == "Europe/Berlin"


def test_the_celery_mode_needs_a_broker() -> None:
    with pytest.raises(ConfigError, match="QUANTDESK_CELERY_BROKER_URL"):
        create_celery(make_settings(MEMORY))


def test_cron_schedule_is_due_exactly_when_the_cron_fires() -> None:
    now = datetime(2026, 6, 3, 5, 59, 50, tzinfo=UTC)
    schedule = CronSchedule(Cron("0 6 * * *", "UTC"), nowfun=lambda: now)
    last_run = now - timedelta(hours=1)

    due, next_check = schedule.is_due(last_run)
    assert (due, next_check) == (False, 10.0)

    now += timedelta(seconds=10)
    due, next_check = schedule.is_due(last_run)
    assert due is True
    assert next_check == 24 * 3600.0  # beat records this run; the next is tomorrow

    due, _ = schedule.is_due(now)  # right after beat recorded the run
    assert due is False


def test_cron_schedule_survives_beat_persisting_it() -> None:
    schedule = CronSchedule(Cron("* * * * * */2", "UTC"))
    assert pickle.loads(pickle.dumps(schedule)) == schedule


# ------------------------------------------------------------------ the task body, run eagerly
# `Task.apply` runs a task body in this process as a worker would (retries re-applied at once,
# without the countdown), so the recording of Celery attempts is checked without a broker.


@pytest.fixture
def flaky_app(
    database_url: str, throwaway_tasks: list[str]
) -> tuple[Celery, list[int], dict[str, int]]:
    """A Celery app with `tests.celery_flaky`, failing until attempt `fail_until['n']`."""
    attempts: list[int] = []
    fail_until = {"n": 0}

    async def flaky(ctx: JobContext) -> str:
        attempts.append(ctx.attempt)
        if ctx.attempt < fail_until["n"]:
            raise ConnectionError(f"attempt {ctx.attempt} failed")
        if fail_until["n"] < 0:
            raise PermanentJobError("never")
        return "done"

    register(throwaway_tasks, "tests.celery_flaky", flaky)
    settings = make_settings(database_url, redis_url=BROKER, jobs_max_retries=2)
    return create_celery(settings), attempts, fail_until


async def _run(app: Celery, task_id: str) -> None:
    task = app.tasks["tests.celery_flaky"]
    await asyncio.to_thread(task.apply, kwargs={}, task_id=task_id)


async def _recorded(database_url: str) -> list[JobRun]:
    db = Database(make_settings(database_url))
    try:
        return await job_runs(db, "tests.celery_flaky")
    finally:
        await db.dispose()


async def test_celery_attempts_are_recorded_on_one_run(
    flaky_app: tuple[Celery, list[int], dict[str, int]], database_url: str
) -> None:
    app, attempts, fail_until = flaky_app
    fail_until["n"] = 3
    await _run(app, "celery-task-1")
    assert attempts == [1, 2, 3]
    [run] = await _recorded(database_url)
    assert (run.task_id, run.runner, run.attempts) == ("celery-task-1", "celery", 3)
    assert (run.status, run.error) == (JobStatus.SUCCEEDED, None)


async def test_celery_gives_up_after_max_retries_with_the_error(
    flaky_app: tuple[Celery, list[int], dict[str, int]], database_url: str
) -> None:
    app, attempts, fail_until = flaky_app
    fail_until["n"] = 10
    await _run(app, "celery-task-2")
    assert attempts == [1, 2, 3]
    [run] = await _recorded(database_url)
    assert (run.status, run.attempts) == (JobStatus.FAILED, 3)
    assert run.error == "ConnectionError: attempt 3 failed"


async def test_celery_does_not_retry_a_permanent_error(
    flaky_app: tuple[Celery, list[int], dict[str, int]], database_url: str
) -> None:
    app, attempts, fail_until = flaky_app
    fail_until["n"] = -1
    await _run(app, "celery-task-3")
    assert attempts == [1]
    [run] = await _recorded(database_url)
    assert (run.status, run.attempts, run.error) == (
        JobStatus.FAILED,
        1,
        "PermanentJobError: never",
    )
