"""A scheduled fetch lands bars in the database, started the way an operator starts it:

* distributed: real Redis, PostgreSQL, `quantdesk worker` and `quantdesk beat` processes;
* embedded: one `quantdesk serve` process and nothing else (on PostgreSQL and SQLite).

Both read the same setting, a per-second cron for `marketdata.fetch_bars` (a sixth cron field
is seconds), so each test waits seconds, not minutes. The fetch goes through the bars provider
chain: the files provider, reading newer bars of a stored series from its folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from quantdesk import migrate
from quantdesk.db import Database
from quantdesk.jobs.celery_runner import CeleryRunner
from quantdesk.jobs.schedule import configured_crons
from quantdesk.jobs.service import job_run_service
from quantdesk.models import Bar, JobRun, JobStatus
from quantdesk.tasks import load_tasks
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.jobs import write_bars_csv
from tests.support.servers import PostgresServer, RedisProcess
from tests.support.settings import make_settings, sqlite_url
from tests.support.workers import quantdesk_process

BARS = 30
STORED = 20  # fetch_bars keeps stored series fresh: the other BARS - STORED land
DEADLINE_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process(
    args: list[str], env: dict[str, str], log: Path
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """A worker or beat gets 10 s to finish its task before it is killed."""
    return quantdesk_process(args, env, log, term_wait=10.0)


async def _prepare(database_url: str, incoming: Path) -> None:
    """TEST has its first bars stored; the files provider's folder has BARS of them."""
    history = synthetic_bars(BARS)
    db = Database(make_settings(database_url))
    try:
        await create_instrument(db, "TEST")
        await load_bars(db, "TEST", history.slice(0, STORED))
    finally:
        await db.dispose()
    write_bars_csv(incoming, "TEST", "1d", history)


async def _landed(database_url: str) -> tuple[int, list[tuple[str, JobStatus]]]:
    db = Database(make_settings(database_url))
    try:
        async with db.session() as session:
            bars = int(await session.scalar(select(func.count()).select_from(Bar)) or 0)
            runs = (
                await session.execute(
                    select(JobRun.runner, JobRun.status).where(
                        JobRun.name == "marketdata.fetch_bars"
                    )
                )
            ).all()
        return bars, [(runner, status) for runner, status in runs]
    finally:
        await db.dispose()


def _env(database_url: str, incoming: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "QUANTDESK_DATABASE_URL": database_url,
        # The bars chain is the files provider on this folder (no demo series, no network).
        "QUANTDESK_PROVIDERS_BARS": "csv",
        "QUANTDESK_PROVIDERS_FILES_DIRS": str(incoming),
        "QUANTDESK_PROVIDERS_FILES_DEMO": "false",
        # Every 2 seconds; every other job off so only the fetch runs.
        "QUANTDESK_JOBS_SCHEDULE": json.dumps(
            {
                **dict.fromkeys(configured_crons(make_settings(database_url)), "off"),
                "marketdata.fetch_bars": "* * * * * */2",
            }
        ),
        "QUANTDESK_JOBS_SIGNALS_AFTER_BARS": "false",
        **extra,
    }


async def _wait_for_bars(
    database_url: str, runner: str, procs: list[subprocess.Popen[bytes]], logs: list[Path]
) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        bars, runs = await _landed(database_url)
        if bars == BARS and (runner, JobStatus.SUCCEEDED) in runs:
            assert {name for name, _ in runs} == {runner}
            return
        exited = [proc.args for proc in procs if proc.poll() is not None]
        if exited or time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)
            pytest.fail(
                f"no scheduled fetch landed (bars={bars}, runs={runs}, exited={exited})\n{tails}"
            )
        await asyncio.sleep(0.5)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    name = f"quantdesk_jobs_{request.node.name.replace('[', '_').strip(']')}"[:60].lower()
    postgres_server.create_database(name)
    url = postgres_server.url(name)
    migrate.upgrade(url)
    return url


@pytest.mark.postgres
@pytest.mark.redis
async def test_celery_worker_and_beat_land_a_scheduled_fetch(
    postgres_database: str, redis_process: RedisProcess, tmp_path: Path
) -> None:
    incoming = tmp_path / "incoming"
    await _prepare(postgres_database, incoming)
    env = _env(
        postgres_database,
        incoming,
        QUANTDESK_JOBS_BACKEND="celery",
        QUANTDESK_REDIS_URL=redis_process.url,
        QUANTDESK_CELERY_BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
    )
    logs = [tmp_path / "worker.log", tmp_path / "beat.log"]
    # Extra options pass through to Celery; skipping gossip/mingle only makes startup quicker.
    worker_args = ["worker", "--concurrency", "1", "--without-gossip", "--without-mingle"]
    with (
        _process(worker_args, env, logs[0]) as worker,
        _process(["beat"], env, logs[1]) as beat,
    ):
        await _wait_for_bars(postgres_database, "celery", [worker, beat], logs)
        await _api_side_of_celery(postgres_database, redis_process.url)


async def _api_side_of_celery(database_url: str, broker: str) -> None:
    """What `quantdesk serve` does in the Celery mode: enqueue (a worker runs it, the run is
    recorded from queued to succeeded) and read the workers' health."""
    settings = make_settings(database_url, jobs_backend="celery", redis_url=broker)
    load_tasks()  # as create_app does (alone on an xdist worker, no job would be known)
    db = Database(settings)
    try:
        runner = CeleryRunner(db, settings)
        job = await runner.enqueue("maintenance.cleanup")
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            async with db.session() as session:
                run = await job_run_service.get(session, job.run_id)
            if run.status is JobStatus.SUCCEEDED or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert (run.status, run.runner, run.attempts) == (JobStatus.SUCCEEDED, "celery", 1)
        stats = await runner.stats()
        assert stats.errors == []
        assert [worker.ok for worker in stats.workers] == [True]
        assert stats.queues == {settings.celery_queue: 0}
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    "engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_serve_alone_lands_a_scheduled_fetch(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if engine == "sqlite":
        database_url = sqlite_url(tmp_path / "serve.db")
        migrate.upgrade(database_url)
    else:
        database_url = request.getfixturevalue("postgres_database")
    incoming = tmp_path / "incoming"
    await _prepare(database_url, incoming)
    env = _env(database_url, incoming, HOST="127.0.0.1", PORT=str(_free_port()))
    env.pop("QUANTDESK_JOBS_SCHEDULER_ENABLED", None)  # serve turns the scheduler on itself
    log = tmp_path / "serve.log"
    with _process(["serve"], env, log) as server:
        await _wait_for_bars(database_url, "inprocess", [server], [log])
