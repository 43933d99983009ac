"""Bar files where the files provider (the default bars chain) finds them:
`{providers_files_dirs entry}/{SYMBOL}_{timeframe}.csv`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs import registry
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import JobRun
from quantdesk.tasks import load_tasks


def write_bars_csv(folder: Path, symbol: str, timeframe: str, frame: BarFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{symbol}_{timeframe}.csv"
    lines = ["timestamp,open,high,low,close,volume"]
    lines += [
        f"{int(t)},{o!r},{h!r},{lo!r},{c!r},{v!r}"
        for t, o, h, lo, c, v in zip(*(column.tolist() for column in frame.columns()), strict=True)
    ]
    # Written whole, then renamed: a job reading the folder never sees half a file.
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)
    return path


class RecordedSleep:
    """Stands in for asyncio.sleep: remembers each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


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
    load_tasks()
    running = InProcessRunner(jobs_db, job_settings, sleep=backoff)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def job_runs(db: Database, name: str | None = None) -> list[JobRun]:
    async with db.session() as session:
        query = select(JobRun).order_by(JobRun.id)
        if name is not None:
            query = query.where(JobRun.name == name)
        return list((await session.scalars(query)).all())


def register(names: list[str], name: str, fn: Any, **options: Any) -> None:
    registry.task(name, **options)(fn)
    names.append(name)
