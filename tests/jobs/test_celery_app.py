"""The Celery app built from settings: delivery guarantees, one task per job, a beat schedule
that reads the same cron settings as the in-process scheduler, and the cache each attempt
installs so a worker's writes invalidate what the API replicas cached."""

from __future__ import annotations

import asyncio
import pickle
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import select

from quantdesk.config import ConfigError
from quantdesk.db import Database, after_commit_async
from quantdesk.infra.cache import (
    CacheCategory,
    CacheStatus,
    build_cache,
    installed_cache,
    symbol_tag,
)
from quantdesk.jobs.celery_app import CronSchedule, create_celery
from quantdesk.jobs.registry import JobContext, PermanentJobError, registered
from quantdesk.jobs.schedule import Cron, schedule_from_settings
from quantdesk.models import JobRun, JobStatus
from quantdesk.tasks import load_tasks
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.jobs import job_runs, register, write_bars_csv
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings

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
    restore = {"unacked_restore_interval": 5, "unacked_restore_throttle": 1}
    assert conf.broker_transport_options == {"visibility_timeout": 3600, **restore}
    tuned = make_settings(MEMORY, redis_url=BROKER, celery_visibility_timeout_seconds=20)
    options = create_celery(tuned).conf.broker_transport_options
    assert options == {"visibility_timeout": 20, **restore}
    assert (conf.task_serializer, conf.result_serializer) == ("json", "json")
    assert conf.accept_content == ["json"]
    assert conf.task_default_queue == "qd"


def test_every_registered_job_is_a_celery_task_with_backoff_retries() -> None:
    settings = make_settings(
        MEMORY, celery_broker_url=BROKER, jobs_max_retries=4, jobs_retry_backoff_seconds=3
    )
    load_tasks()  # the job catalogue, as the worker loads it (not left to an earlier test)
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


# ------------------------------------------------------------------ the worker's cache


async def test_work_started_at_commit_finishes_before_the_attempt_closes(
    database_url: str, throwaway_tasks: list[str]
) -> None:
    """Cache invalidations run as tasks started at commit; asyncio.run would cancel them when
    the attempt returns, so the attempt lets them finish while its cache is still installed."""
    seen: list[bool] = []

    async def follow_up() -> None:
        await asyncio.sleep(0.2)  # e.g. a slow Redis round trip
        seen.append(installed_cache() is not None)

    async def writes(ctx: JobContext) -> None:
        async with ctx.db.session() as session:
            await session.execute(select(1))
            after_commit_async(session, follow_up)

    register(throwaway_tasks, "tests.celery_after_commit", writes)
    app = create_celery(make_settings(database_url, redis_url=BROKER))
    task = app.tasks["tests.celery_after_commit"]
    outcome = await asyncio.to_thread(task.apply, kwargs={}, task_id="celery-after-commit")
    assert outcome.successful(), outcome.traceback
    assert seen == [True]


@pytest.mark.redis
async def test_bars_written_by_a_celery_attempt_invalidate_the_shared_redis_cache(
    database_url: str, redis_process: RedisProcess, tmp_path: Path
) -> None:
    """An API replica caches quotes in Redis; a worker's fetch of new bars drops that symbol's
    entries (and only those) through the cache the attempt builds and installs."""
    fresh = f"RC{secrets.token_hex(3).upper()}"  # the session's Redis is shared by many tests
    unchanged = f"{fresh}U"
    files = tmp_path / "marketdata"
    settings = make_settings(
        database_url,
        redis_url=redis_process.url,
        cache_backend="redis",
        providers_bars=["csv"],
        providers_files_dirs=[files],
        providers_files_demo=False,
        jobs_signals_after_bars=False,
    )
    history = synthetic_bars(12)
    db = Database(settings)
    api_cache = build_cache(settings)
    try:
        for symbol in (fresh, unchanged):
            await create_instrument(db, symbol)
            await load_bars(db, symbol, history.slice(0, 10))
        write_bars_csv(files, fresh, "1d", history)
        write_bars_csv(files, unchanged, "1d", history.slice(0, 10))

        async def quote_status(symbol: str) -> CacheStatus:
            async def compute() -> dict[str, str]:
                return {"symbol": symbol}

            tags = [symbol_tag(CacheCategory.QUOTES, symbol)]
            return (
                await api_cache.get_or_compute(CacheCategory.QUOTES, symbol, compute, tags=tags)
            )[1]

        assert [await quote_status(fresh), await quote_status(unchanged)] == [CacheStatus.MISS] * 2
        assert [await quote_status(fresh), await quote_status(unchanged)] == [CacheStatus.HIT] * 2

        app = create_celery(settings)
        task = app.tasks["marketdata.fetch_bars"]
        outcome = await asyncio.to_thread(task.apply, kwargs={}, task_id=f"fetch-{fresh}")

        assert outcome.successful(), outcome.traceback
        # Celery keeps the run's JobResult as JSON.
        result = outcome.result
        assert isinstance(result, dict)
        assert result["rows_written"] == 2
        assert result["written"] == {f"{fresh}:1d": 2, f"{unchanged}:1d": 0}
        assert installed_cache() is None  # the attempt's cache is uninstalled (and closed)
        assert await quote_status(fresh) is CacheStatus.MISS
        assert await quote_status(unchanged) is CacheStatus.HIT
    finally:
        await api_cache.aclose()
        await db.dispose()
