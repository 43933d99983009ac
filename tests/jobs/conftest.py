"""Job fixtures: a migrated database (SQLite and PostgreSQL), an in-process runner whose
backoff waits are recorded instead of slept, and a files-provider folder for new bars."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs import registry
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.models import JobRun
from tests.conftest import make_settings


class RecordedSleep:
    """Stands in for asyncio.sleep: remembers each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def job_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        jobs_workers=2,
        jobs_retry_backoff_seconds=2.0,
        jobs_retry_backoff_max_seconds=5.0,
        jobs_max_retries=2,
        jobs_shutdown_grace_seconds=5.0,
        # The bars chain's files provider reads this test's folder only (see `bars_dir`).
        providers_files_dirs=[tmp_path / "marketdata"],
        providers_files_demo=False,
    )


@pytest.fixture
def bars_dir(job_settings: Settings) -> Path:
    """Where `marketdata.fetch_bars` finds new bars (the files provider's directory)."""
    folder = job_settings.providers_files_dirs[0]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def jobs_db(job_settings: Settings) -> AsyncIterator[Database]:
    database = Database(job_settings)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def backoff() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
async def runner(
    jobs_db: Database, job_settings: Settings, backoff: RecordedSleep
) -> AsyncIterator[InProcessRunner]:
    registry.load_tasks()
    running = InProcessRunner(jobs_db, job_settings, sleep=backoff)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def throwaway_tasks() -> Iterator[list[str]]:
    """Names of test-only tasks registered by a test; unregistered afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        registry.unregister(name)


async def job_runs(db: Database, name: str | None = None) -> list[JobRun]:
    async with db.session() as session:
        query = select(JobRun).order_by(JobRun.id)
        if name is not None:
            query = query.where(JobRun.name == name)
        return list((await session.scalars(query)).all())


def register(names: list[str], name: str, fn: Any, **options: Any) -> None:
    registry.task(name, **options)(fn)
    names.append(name)
