"""The in-process scheduler fires jobs when their cron says so (a test clock, no waiting)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.jobs.registry import JobContext
from quantdesk.jobs.schedule import Cron, ScheduleEntry
from quantdesk.jobs.scheduler import Scheduler
from quantdesk.models import JobStatus
from tests.jobs.conftest import job_runs, register


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def test_a_job_fires_on_its_tick_and_is_recorded(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    fired_at: list[datetime] = []
    clock = Clock(datetime(2026, 6, 3, 5, 59, 30, tzinfo=UTC))  # a Wednesday

    async def fetch(ctx: JobContext) -> None:
        fired_at.append(clock())

    register(throwaway_tasks, "tests.fetch_rates", fetch)
    entry = ScheduleEntry("tests.fetch_rates", Cron("0 6 * * *", "UTC"))
    scheduler = Scheduler(runner, [entry], clock=clock)

    assert scheduler.seconds_to_next() == 30
    assert await scheduler.tick() == []
    clock.advance(seconds=29)
    assert await scheduler.tick() == []
    clock.advance(seconds=1)
    assert await scheduler.tick() == ["tests.fetch_rates"]
    assert await scheduler.tick() == []  # once per fire time
    await runner.drain()

    assert fired_at == [datetime(2026, 6, 3, 6, tzinfo=UTC)]
    [run] = await job_runs(jobs_db, "tests.fetch_rates")
    assert (run.status, run.runner) == (JobStatus.SUCCEEDED, "inprocess")
    assert scheduler.upcoming() == [
        ("tests.fetch_rates", "0 6 * * *", datetime(2026, 6, 4, 6, tzinfo=UTC))
    ]


async def test_missed_ticks_fire_once_not_in_a_burst(
    runner: InProcessRunner, jobs_db: Database, throwaway_tasks: list[str]
) -> None:
    async def fetch(ctx: JobContext) -> None:
        return None

    register(throwaway_tasks, "tests.fetch_bars", fetch)
    clock = Clock(datetime(2026, 6, 3, 10, 1, tzinfo=UTC))
    entry = ScheduleEntry("tests.fetch_bars", Cron("*/15 * * * *", "UTC"))
    scheduler = Scheduler(runner, [entry], clock=clock)
    clock.advance(hours=2)  # the machine slept through eight ticks
    assert await scheduler.tick() == ["tests.fetch_bars"]
    await runner.drain()
    assert len(await job_runs(jobs_db, "tests.fetch_bars")) == 1
    assert scheduler.upcoming()[0][2] == datetime(2026, 6, 3, 12, 15, tzinfo=UTC)


async def test_the_loop_sleeps_until_the_next_fire_time(
    runner: InProcessRunner, throwaway_tasks: list[str]
) -> None:
    async def fetch(ctx: JobContext) -> None:
        return None

    register(throwaway_tasks, "tests.loop", fetch)
    clock = Clock(datetime(2026, 6, 3, 10, 0, 0, tzinfo=UTC))
    naps: list[float] = []

    async def sleep(seconds: float) -> None:
        naps.append(seconds)
        clock.advance(seconds=seconds)
        if len(naps) == 3:
            raise asyncio.CancelledError

    entries = [
        ScheduleEntry("tests.loop", Cron("* * * * * */20", "UTC")),
        # Far away: does not delay the near one.
        ScheduleEntry("tests.loop", Cron("0 0 1 1 *", "UTC")),
    ]
    scheduler = Scheduler(runner, entries, clock=clock, sleep=sleep)
    task = asyncio.create_task(scheduler.run())
    await asyncio.gather(task, return_exceptions=True)
    assert naps == [20.0, 20.0, 20.0]
    await runner.drain()
