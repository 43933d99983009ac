"""The in-process runner: every run recorded, retries with backoff, failures with their error,
and jobs enqueued after a commit only (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.jobs.registry import JobContext, PermanentJobError
from quantdesk.jobs.runner import JobsUnavailable
from quantdesk.models import JobStatus
from tests.support.jobs import RecordedSleep, job_runs, register


async def test_a_run_is_recorded_from_queue_to_success(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    seen: list[tuple[str, int]] = []

    async def greet(ctx: JobContext, *, who: str) -> None:
        seen.append((who, ctx.attempt))

    register(throwaway_tasks, "tests.greet", greet)
    job = await runner.enqueue("tests.greet", who="world")
    await runner.drain()

    assert seen == [("world", 1)]
    [run] = await job_runs(jobs_db, "tests.greet")
    assert (run.id, run.task_id) == (job.run_id, job.task_id)
    assert run.status is JobStatus.SUCCEEDED
    assert run.args == {"who": "world"}
    assert (run.runner, run.attempts, run.error) == ("inprocess", 1, None)
    assert run.started_at is not None and run.finished_at is not None
    assert run.created_at <= run.started_at <= run.finished_at
    assert run.duration_s is not None and run.duration_s >= 0


async def test_failed_attempts_are_retried_with_exponential_backoff(
    runner: InProcessRunner,
    jobs_db: Database,
    backoff: RecordedSleep,
    throwaway_tasks: list[str],
) -> None:
    attempts: list[int] = []

    async def flaky(ctx: JobContext) -> None:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise ConnectionError(f"provider down (attempt {ctx.attempt})")

    register(throwaway_tasks, "tests.flaky", flaky)
    await runner.enqueue("tests.flaky")
    await runner.drain()

    assert attempts == [1, 2, 3]
    assert backoff.delays == [2.0, 4.0]  # jobs_retry_backoff_seconds=2, doubling
    [run] = await job_runs(jobs_db, "tests.flaky")
    assert (run.status, run.attempts, run.error) == (JobStatus.SUCCEEDED, 3, None)


async def test_a_job_that_keeps_failing_is_recorded_failed_with_its_error(
    runner: InProcessRunner,
    jobs_db: Database,
    backoff: RecordedSleep,
    throwaway_tasks: list[str],
) -> None:
    async def broken(ctx: JobContext) -> None:
        raise ValueError("upstream sent garbage")

    register(throwaway_tasks, "tests.broken", broken)
    await runner.enqueue("tests.broken")
    await runner.drain()

    [run] = await job_runs(jobs_db, "tests.broken")
    assert run.status is JobStatus.FAILED
    assert run.attempts == 3  # the first try and jobs_max_retries=2 more
    assert run.error == "ValueError: upstream sent garbage"
    assert run.finished_at is not None
    assert backoff.delays == [2.0, 4.0]


async def test_a_permanent_error_is_not_retried(
    runner: InProcessRunner,
    jobs_db: Database,
    backoff: RecordedSleep,
    throwaway_tasks: list[str],
) -> None:
    async def hopeless(ctx: JobContext) -> None:
        raise PermanentJobError("no such series")

    register(throwaway_tasks, "tests.hopeless", hopeless)
    await runner.enqueue("tests.hopeless")
    await runner.drain()

    [run] = await job_runs(jobs_db, "tests.hopeless")
    assert (run.status, run.attempts) == (JobStatus.FAILED, 1)
    assert run.error == "PermanentJobError: no such series"
    assert backoff.delays == []


async def test_a_job_can_start_follow_up_jobs(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    done: list[str] = []

    async def first(ctx: JobContext) -> None:
        await ctx.enqueue("tests.second", note="from first")

    async def second(ctx: JobContext, *, note: str) -> None:
        done.append(note)

    register(throwaway_tasks, "tests.first", first)
    register(throwaway_tasks, "tests.second", second)
    await runner.enqueue("tests.first")
    await runner.drain()

    assert done == ["from first"]
    assert [run.name for run in await job_runs(jobs_db)] == ["tests.first", "tests.second"]


async def test_blocking_work_runs_in_a_thread(
    runner: InProcessRunner, throwaway_tasks: list[str]
) -> None:
    import threading

    threads: list[int] = []

    async def heavy(ctx: JobContext) -> None:
        threads.append(await ctx.to_thread(threading.get_ident))

    register(throwaway_tasks, "tests.heavy", heavy)
    await runner.enqueue("tests.heavy")
    await runner.drain()
    assert threads and threads[0] != threading.get_ident()


# --------------------------------------------------------------------------- after commit


async def _remember(names: list[str], seen: list[str], name: str) -> None:
    async def job(ctx: JobContext, *, tag: str) -> None:
        seen.append(tag)

    register(names, name, job)


async def test_enqueue_after_commit_runs_once_the_transaction_commits(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    seen: list[str] = []
    await _remember(throwaway_tasks, seen, "tests.after")
    async with jobs_db.session() as session:
        await session.execute(text("SELECT 1"))
        runner.enqueue_after_commit(session, "tests.after", tag="committed")
        await asyncio.sleep(0.05)
        assert seen == [] and await job_runs(jobs_db) == []  # nothing before the commit
    await _settle(runner)
    assert seen == ["committed"]


async def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    seen: list[str] = []
    await _remember(throwaway_tasks, seen, "tests.after")

    async def failing_request() -> None:
        async with jobs_db.session() as session:
            await session.execute(text("SELECT 1"))
            runner.enqueue_after_commit(session, "tests.after", tag="rolled back")
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        await failing_request()
    # The same session object committing later must not resurrect the job either.
    async with jobs_db.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        runner.enqueue_after_commit(session, "tests.after", tag="discarded")
        await session.rollback()
        await session.execute(text("SELECT 1"))
        await session.commit()
    await _settle(runner)
    assert seen == []
    assert await job_runs(jobs_db) == []


async def test_a_rolled_back_savepoint_drops_only_its_own_jobs(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    seen: list[str] = []
    await _remember(throwaway_tasks, seen, "tests.after")
    async with jobs_db.session() as session:
        await session.execute(text("SELECT 1"))
        runner.enqueue_after_commit(session, "tests.after", tag="outer")
        savepoint = await session.begin_nested()
        runner.enqueue_after_commit(session, "tests.after", tag="inner, rolled back")
        await savepoint.rollback()
        async with session.begin_nested():  # released: its job waits for the real commit
            runner.enqueue_after_commit(session, "tests.after", tag="inner, released")
        await asyncio.sleep(0.05)
        assert seen == []
    await _settle(runner)
    assert sorted(seen) == ["inner, released", "outer"]


async def test_bad_arguments_fail_in_the_caller_not_in_a_worker(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    seen: list[str] = []
    await _remember(throwaway_tasks, seen, "tests.after")
    async with jobs_db.session() as session:
        with pytest.raises(Exception, match="do not fit"):
            runner.enqueue_after_commit(session, "tests.after", wrong=1)


async def _settle(runner: InProcessRunner) -> None:
    from quantdesk.jobs.runner import wait_for_spawned

    await wait_for_spawned()
    await runner.drain()


# --------------------------------------------------------------------------- stopping


async def test_jobs_still_queued_at_shutdown_are_recorded_as_not_run(
    jobs_db: Database, job_settings: Settings, throwaway_tasks: list[str]
) -> None:
    gate, running = asyncio.Event(), asyncio.Event()

    async def slow(ctx: JobContext, *, n: int) -> None:
        running.set()
        await gate.wait()

    register(throwaway_tasks, "tests.slow", slow)
    settings = job_settings.model_copy(
        update={"jobs_workers": 1, "jobs_shutdown_grace_seconds": 0.2}
    )
    runner = InProcessRunner(jobs_db, settings)
    await runner.start()
    for n in range(3):
        await runner.enqueue("tests.slow", n=n)
    await asyncio.wait_for(running.wait(), 10)
    stats = await runner.stats()
    assert (stats.active, stats.queues) == (1, {"inprocess": 2})
    await runner.stop()

    runs = await job_runs(jobs_db, "tests.slow")
    assert [run.status for run in runs] == [JobStatus.FAILED] * 3
    assert runs[0].error == "interrupted: shutting down"
    assert {run.error for run in runs[1:]} == {"not run: the server stopped first"}
    with pytest.raises(JobsUnavailable):
        await runner.enqueue("tests.slow", n=9)


async def test_a_full_queue_refuses_new_jobs(
    jobs_db: Database, job_settings: Settings, throwaway_tasks: list[str]
) -> None:
    gate, running = asyncio.Event(), asyncio.Event()

    async def held(ctx: JobContext, **_: Any) -> None:
        running.set()
        await gate.wait()

    register(throwaway_tasks, "tests.held", held)
    settings = job_settings.model_copy(update={"jobs_workers": 1, "jobs_queue_size": 1})
    runner = InProcessRunner(jobs_db, settings)
    await runner.start()
    try:
        await runner.enqueue("tests.held")  # taken by the only worker
        await asyncio.wait_for(running.wait(), 10)
        await runner.enqueue("tests.held")  # fills the queue
        with pytest.raises(JobsUnavailable) as raised:
            await runner.enqueue("tests.held")
        assert raised.value.status == 503
    finally:
        gate.set()
        await runner.stop()
    runs = await job_runs(jobs_db, "tests.held")
    assert [run.status for run in runs] == [JobStatus.SUCCEEDED] * 2 + [JobStatus.FAILED]
    assert runs[2].error is not None and runs[2].error.startswith("not enqueued")
