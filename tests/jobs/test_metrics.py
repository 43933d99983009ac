"""Job metrics: every attempt counted by outcome and timed, and the queue length gauge of the
in-process runner and of the Celery broker list (the registry is process-global, so counters
compare before/after)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis
from prometheus_client import REGISTRY

from quantdesk.db import Database
from quantdesk.jobs.celery_runner import CeleryRunner
from quantdesk.jobs.inprocess import QUEUE_NAME, InProcessRunner
from quantdesk.jobs.registry import JobContext, PermanentJobError
from tests.support.jobs import register
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings

OUTCOMES = ("succeeded", "retrying", "failed")


def attempts(name: str) -> dict[str, float]:
    return {
        status: REGISTRY.get_sample_value("jobs_total", {"name": name, "status": status}) or 0.0
        for status in OUTCOMES
    }


def timed(name: str) -> float:
    return REGISTRY.get_sample_value("job_duration_seconds_count", {"name": name}) or 0.0


def queued(queue: str) -> float | None:
    return REGISTRY.get_sample_value("queue_length", {"queue": queue})


def observed(name: str) -> dict[str, float]:
    return {**attempts(name), "timed": timed(name)}


async def counted(runner: InProcessRunner, name: str) -> dict[str, float]:
    """Attempts by outcome, and attempts timed, that running job `name` once added."""
    before = observed(name)
    await runner.enqueue(name)
    await runner.drain()
    return {key: value - before[key] for key, value in observed(name).items()}


async def test_a_successful_run_counts_one_succeeded_attempt(
    runner: InProcessRunner, throwaway_tasks: list[str]
) -> None:
    async def quick(ctx: JobContext) -> None:
        return None

    register(throwaway_tasks, "tests.metrics_quick", quick)
    assert await counted(runner, "tests.metrics_quick") == {
        "succeeded": 1,
        "retrying": 0,
        "failed": 0,
        "timed": 1,
    }


async def test_each_attempt_is_counted_retrying_until_the_last(
    runner: InProcessRunner, throwaway_tasks: list[str]
) -> None:
    async def broken(ctx: JobContext) -> None:
        raise ValueError("upstream sent garbage")

    register(throwaway_tasks, "tests.metrics_broken", broken)
    # jobs_max_retries=2: two attempts that will be retried, then the last one fails.
    assert await counted(runner, "tests.metrics_broken") == {
        "succeeded": 0,
        "retrying": 2,
        "failed": 1,
        "timed": 3,
    }


async def test_a_permanent_error_counts_one_failed_attempt(
    runner: InProcessRunner, throwaway_tasks: list[str]
) -> None:
    async def hopeless(ctx: JobContext) -> None:
        raise PermanentJobError("no such series")

    register(throwaway_tasks, "tests.metrics_hopeless", hopeless)
    assert await counted(runner, "tests.metrics_hopeless") == {
        "succeeded": 0,
        "retrying": 0,
        "failed": 1,
        "timed": 1,
    }


async def test_the_queue_length_follows_the_in_process_queue(
    runner: InProcessRunner, throwaway_tasks: list[str]
) -> None:
    release = asyncio.Event()
    busy: list[int] = []
    both_busy = asyncio.Event()

    async def blocker(ctx: JobContext) -> None:
        busy.append(ctx.attempt)
        if len(busy) == 2:
            both_busy.set()
        await release.wait()

    async def waiting(ctx: JobContext) -> None:
        return None

    register(throwaway_tasks, "tests.metrics_blocker", blocker)
    register(throwaway_tasks, "tests.metrics_waiting", waiting)
    for _ in range(2):  # one per worker (jobs_workers=2)
        await runner.enqueue("tests.metrics_blocker")
    await asyncio.wait_for(both_busy.wait(), timeout=30)
    for _ in range(3):
        await runner.enqueue("tests.metrics_waiting")
    assert queued(QUEUE_NAME) == 3
    release.set()
    await runner.drain()
    assert queued(QUEUE_NAME) == 0


@pytest.mark.redis
async def test_celery_stats_set_the_queue_length_from_the_broker_list(
    redis_process: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:", redis_url=redis_process.url, celery_queue="qd-metrics"
    )
    db = Database(settings)
    client = redis.from_url(redis_process.url)
    try:
        runner = CeleryRunner(db, settings)
        # No worker runs here: skip the broadcast that would wait for one to answer.
        monkeypatch.setattr(runner, "_active_by_worker", dict)
        await client.delete("qd-metrics")
        await client.rpush("qd-metrics", "one", "two", "three")
        stats = await runner.stats()
        assert stats.queues == {"qd-metrics": 3}
        assert queued("qd-metrics") == 3
        await client.delete("qd-metrics")
        await runner.stats()
        assert queued("qd-metrics") == 0
    finally:
        await client.aclose()
        await db.dispose()
