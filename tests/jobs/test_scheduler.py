"""The in-process scheduler fires jobs when their cron says so (a test clock, no waiting), and
the default bars schedule keeps stored series fresh from the files provider."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.jobs.registry import JobContext
from quantdesk.jobs.schedule import Cron, ScheduleEntry, schedule_from_settings
from quantdesk.jobs.scheduler import Scheduler
from quantdesk.models import Bar, JobStatus
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.jobs import job_runs, register, write_bars_csv


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


async def test_a_new_bar_file_lands_through_the_default_bars_schedule(
    runner: InProcessRunner,
    jobs_db: Database,
    job_settings: Settings,
    bars_dir: Path,
) -> None:
    """What keeps `quantdesk serve` fresh with nothing else running: the configured schedule
    fires `marketdata.fetch_bars`, which reads the files provider's folder."""
    job_settings.jobs_signals_after_bars = False
    await create_instrument(jobs_db, "TEST")
    history = synthetic_bars(40)
    await load_bars(jobs_db, "TEST", history.slice(0, 30))
    write_bars_csv(bars_dir, "TEST", "1d", history.slice(0, 30))
    [entry] = schedule_from_settings(job_settings, registered=["marketdata.fetch_bars"])
    clock = Clock(datetime(2026, 6, 3, 10, 1, tzinfo=UTC))  # a Wednesday
    scheduler = Scheduler(runner, [entry], clock=clock)

    clock.advance(minutes=14)  # 10:15, the next */15 tick: nothing new yet
    assert await scheduler.tick() == ["marketdata.fetch_bars"]
    await runner.drain()
    assert await _stored_closes(jobs_db) == pytest.approx(history.close[:30].tolist())

    write_bars_csv(bars_dir, "TEST", "1d", history.slice(0, 35))  # the file grows
    clock.advance(minutes=10)
    assert await scheduler.tick() == []  # 10:25: between ticks
    clock.advance(minutes=5)
    assert await scheduler.tick() == ["marketdata.fetch_bars"]
    await runner.drain()

    assert await _stored_closes(jobs_db) == pytest.approx(history.close[:35].tolist())
    runs = await job_runs(jobs_db, "marketdata.fetch_bars")
    assert [(run.status, run.runner) for run in runs] == [(JobStatus.SUCCEEDED, "inprocess")] * 2


async def _stored_closes(db: Database) -> list[float]:
    async with db.session() as session:
        return list((await session.scalars(select(Bar.close).order_by(Bar.ts))).all())
