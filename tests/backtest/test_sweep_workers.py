"""Large sweeps on real Celery workers: two `quantdesk worker` processes on a real Redis and
PostgreSQL split a 3-symbol sweep's chunks between them. The result equals the single-process
sweep exactly; a worker process killed (SIGKILL) while it runs a chunk loses nothing: the
chunk is redelivered, applied once, and the sweep completes with the same exact result."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from quantdesk import migrate
from quantdesk.backtest.schemas import SweepCreate
from quantdesk.backtest.service import backtest_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.celery_runner import CeleryRunner
from quantdesk.models import BacktestRun, BacktestStatus, JobRun, JobStatus
from tests.support.accounts import create_user
from tests.support.servers import PostgresServer, RedisProcess
from tests.support.settings import make_settings
from tests.support.sweeps import chunk_rows, single_process, store_symbols
from tests.support.workers import kill_pool_processes, log_tails, quantdesk_process

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SYMBOLS = ["ALPHA", "BRAVO", "CHARLIE"]
BARS = 300
# 300 bars, 1,200 pair-bars per chunk: tiles of 2 fast x 2 slow periods, 8 chunks for each
# symbol's 27 pairs (13 >= 10 is no pair).
CHUNK_WORK = 1_200
CHUNK_DELAY_SECONDS = 0.3  # each chunk this long at least: one is always in flight
DEADLINE_SECONDS = 90.0
SWEEP: dict[str, Any] = {
    "symbols": SYMBOLS,
    "grid": {"fast": [3, 5, 8, 13], "slow": [10, 15, 20, 30, 40, 60, 90]},
    "rank_by": "sharpe",
}


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    name = f"quantdesk_sweep_{secrets.token_hex(4)}"
    postgres_server.create_database(name)
    url = postgres_server.url(name)
    migrate.upgrade(url)
    return url


async def _queue_sweep(settings: Settings, user_id: int) -> str:
    db = Database(settings)
    try:
        async with db.session() as session:
            run, _ = await backtest_service.create(
                session, settings, user_id=user_id, body=SweepCreate.model_validate(SWEEP)
            )
        await CeleryRunner(db, settings).enqueue("backtest.run", run_id=run.id)
        return run.id
    finally:
        await db.dispose()


async def _run(db: Database, run_id: str) -> BacktestRun:
    async with db.session() as session:
        found = await session.get(BacktestRun, run_id)
        assert found is not None
        return found


async def _wait(
    db: Database,
    run_id: str,
    procs: list[subprocess.Popen[bytes]],
    logs: list[Path],
    *,
    chunks_done: int | None = None,
) -> BacktestRun:
    """The run once completed (or failed), or once ``chunks_done`` chunks are in."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        run = await _run(db, run_id)
        if run.status in (BacktestStatus.COMPLETED, BacktestStatus.FAILED):
            return run
        if chunks_done is not None and run.chunks_done >= chunks_done:
            return run
        exited = [proc.args for proc in procs if proc.poll() is not None]
        if exited or time.monotonic() > deadline:
            pytest.fail(
                f"sweep {run_id} stuck at {run.status} {run.chunks_done}/{run.chunks_total} "
                f"(exited={exited})\n{log_tails(logs)}"
            )
        await asyncio.sleep(0.1)


async def _both_in_a_chunk(db: Database, run_id: str, logs: list[Path]) -> None:
    """Once a chunk has been applied and both workers (one pool process each) are running
    one: then a kill lands in a chunk, not between two."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        run = await _run(db, run_id)
        assert run.status in (BacktestStatus.QUEUED, BacktestStatus.RUNNING), run.error
        running = [j for j in await _chunk_jobs(db, run_id) if j.status is JobStatus.RUNNING]
        if run.chunks_done >= 1 and len(running) == 2:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the two workers were never both in a chunk\n{log_tails(logs)}")


async def _chunk_jobs(db: Database, run_id: str) -> list[JobRun]:
    async with db.session() as session:
        jobs = await session.scalars(select(JobRun).where(JobRun.name == "backtest.sweep_chunk"))
        return [job for job in jobs if job.args.get("run_id") == run_id]


async def test_two_workers_split_a_sweep_and_survive_a_killed_worker_process(
    postgres_database: str, redis_process: RedisProcess, tmp_path: Path
) -> None:
    queue = f"sweeps-{secrets.token_hex(4)}"
    settings = make_settings(
        postgres_database,
        jobs_backend="celery",
        redis_url=redis_process.url,
        celery_queue=queue,
        backtest_sweep_chunk_work=CHUNK_WORK,
    )
    db = Database(settings)
    env = {
        **os.environ,
        "QUANTDESK_DATABASE_URL": postgres_database,
        "QUANTDESK_JOBS_BACKEND": "celery",
        "QUANTDESK_REDIS_URL": redis_process.url,
        "QUANTDESK_CELERY_QUEUE": queue,
        "QUANTDESK_BACKTEST_SWEEP_CHUNK_WORK": str(CHUNK_WORK),
        "QUANTDESK_BACKTEST_SWEEP_CHUNK_DELAY_SECONDS": str(CHUNK_DELAY_SECONDS),
    }
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    args = ["worker", "--concurrency", "1", "--without-gossip", "--without-mingle"]
    try:
        await store_symbols(db, SYMBOLS, bars=BARS)
        user = await create_user(db)
        expected = await single_process(db, settings, SWEEP)
        with (
            quantdesk_process([*args, "-n", f"one-{queue}@%h"], env, logs[0]) as one,
            quantdesk_process([*args, "-n", f"two-{queue}@%h"], env, logs[1]) as two,
        ):
            # 1. Two workers share the chunks; the result is the single-process one.
            first = await _wait(db, await _queue_sweep(settings, user.id), [one, two], logs)
            assert first.status is BacktestStatus.COMPLETED, first.error
            assert first.chunks_total == len(SYMBOLS) * 8 == first.chunks_done
            assert first.sweep is not None
            assert first.sweep["results"] == expected["results"]
            assert first.sweep["heatmaps"] == expected["heatmaps"]

            # 2. Worker one's pool process is killed in the middle of the next sweep.
            run_id = await _queue_sweep(settings, user.id)
            await _both_in_a_chunk(db, run_id, logs)
            assert kill_pool_processes(one)
            second = await _wait(db, run_id, [one, two], logs)

        assert second.status is BacktestStatus.COMPLETED, second.error
        assert second.sweep is not None
        assert second.sweep["results"] == expected["results"]
        assert second.chunks_done == second.chunks_total == len(SYMBOLS) * 8
        chunks = await chunk_rows(db, run_id)
        # Each chunk applied once: its rows stored once and counted once.
        assert [len(chunk.rows or []) for chunk in chunks] == [4, 4, 4, 2, 3, 4, 4, 2] * len(
            SYMBOLS
        )
        jobs = await _chunk_jobs(db, run_id)
        # The killed chunk was redelivered (its second attempt) and every chunk succeeded.
        assert any(job.attempts == 2 for job in jobs), [(j.args, j.attempts) for j in jobs]
        assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    finally:
        await db.dispose()
