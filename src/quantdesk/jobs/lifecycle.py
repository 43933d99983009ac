"""Starting and stopping the job machinery with the app:

    async with job_runtime(settings, db) as runtime:
        app.state.jobs = runtime

In-process mode starts the runner's workers and, when `jobs_scheduler_enabled`, the scheduler.
Celery mode only connects a client runner: workers and beat are their own processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.registry import registered
from quantdesk.jobs.runner import JobRunner, install_runner, wait_for_spawned
from quantdesk.jobs.schedule import schedule_from_settings
from quantdesk.jobs.scheduler import Scheduler
from quantdesk.models import utcnow
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    cron: str
    timezone: str
    next_run_at: datetime
    runs_here: bool  # False: Celery beat fires it, not this process


@dataclass
class JobRuntime:
    runner: JobRunner
    settings: Settings
    scheduler: Scheduler | None = None

    def schedule(self) -> list[ScheduledJob]:
        entries = schedule_from_settings(self.settings, registered=registered())
        upcoming = {name: at for name, _, at in self.scheduler.upcoming()} if self.scheduler else {}
        now = utcnow()
        return [
            ScheduledJob(
                name=entry.name,
                cron=entry.cron.expression,
                timezone=entry.cron.timezone,
                next_run_at=upcoming.get(entry.name) or entry.cron.next_after(now),
                runs_here=entry.name in upcoming,
            )
            for entry in entries
        ]


def build_runner(settings: Settings, db: Database) -> JobRunner:
    if settings.jobs_backend == "celery":
        from quantdesk.jobs.celery_runner import CeleryRunner

        return CeleryRunner(db, settings)
    from quantdesk.jobs.inprocess import InProcessRunner

    return InProcessRunner(db, settings)


@asynccontextmanager
async def job_runtime(settings: Settings, db: Database) -> AsyncIterator[JobRuntime]:
    entries = schedule_from_settings(settings, registered=registered())
    runner = build_runner(settings, db)
    await runner.start()
    runtime = JobRuntime(runner=runner, settings=settings)
    if settings.jobs_backend == "inprocess" and settings.jobs_scheduler_enabled:
        runtime.scheduler = Scheduler(runner, entries)
        runtime.scheduler.start()
    install_runner(runner)
    log.info(
        "jobs started",
        backend=runner.backend,
        scheduled=[entry.name for entry in entries] if runtime.scheduler else [],
    )
    try:
        yield runtime
    finally:
        install_runner(None)
        if runtime.scheduler is not None:
            await runtime.scheduler.stop()
        await wait_for_spawned()
        await runner.stop()
