"""Runs execute as `backtest.run` jobs of the app's job runner, enqueued once the POST has
committed the run (no FastAPI background tasks)."""

from __future__ import annotations

import subprocess
import sys

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from quantdesk.db import Database
from quantdesk.engine.backtest import Bars
from quantdesk.models import JobRun, JobStatus
from tests.support.backtests import REQUEST, SWEEP, URL, wait_for


async def _jobs(app: FastAPI, db: Database) -> list[JobRun]:
    await app.state.jobs.runner.drain()  # the in-process runner: its records are written
    async with db.session() as session:
        rows = await session.execute(select(JobRun).where(JobRun.name == "backtest.run"))
        return list(rows.scalars())


async def test_runs_and_sweeps_execute_as_backtest_run_jobs(
    app: FastAPI, client: httpx.AsyncClient, db: Database, goog: Bars, premium: dict[str, str]
) -> None:
    single = await client.post(URL, json=REQUEST, headers=premium)
    sweep = await client.post(f"{URL}/sweep", json=SWEEP, headers=premium)
    assert single.status_code == sweep.status_code == 202
    ids = [single.json()["id"], sweep.json()["id"]]
    for run_id in ids:
        assert (await wait_for(client, run_id, premium))["status"] == "completed"
    jobs = await _jobs(app, db)
    assert sorted(job.args["run_id"] for job in jobs) == sorted(ids)
    assert {(job.status, job.runner, job.attempts) for job in jobs} == {
        (JobStatus.SUCCEEDED, "inprocess", 1)
    }


async def test_a_replayed_key_of_a_finished_run_enqueues_nothing(
    app: FastAPI, client: httpx.AsyncClient, db: Database, goog: Bars, premium: dict[str, str]
) -> None:
    headers = {**premium, "Idempotency-Key": "jobs-once"}
    run_id = (await client.post(URL, json=REQUEST, headers=headers)).json()["id"]
    await wait_for(client, run_id, premium)
    await app.state.jobs.runner.drain()
    again = await client.post(URL, json=REQUEST, headers=headers)
    assert again.status_code == 202 and again.json() == {"id": run_id, "status": "completed"}
    assert len(await _jobs(app, db)) == 1


async def test_a_refused_request_enqueues_nothing(
    app: FastAPI, client: httpx.AsyncClient, db: Database, goog: Bars, premium: dict[str, str]
) -> None:
    headers = {**premium, "Idempotency-Key": "jobs-conflict"}
    assert (await client.post(URL, json=REQUEST, headers=headers)).status_code == 202
    other = {**REQUEST, "cash": 20_000}
    assert (await client.post(URL, json=other, headers=headers)).status_code == 409
    assert len(await _jobs(app, db)) == 1


def test_a_worker_process_finds_the_job_by_loading_the_task_modules() -> None:
    # What a Celery worker does (`quantdesk worker`): load_tasks() and nothing else of the app.
    code = (
        "from quantdesk.jobs.registry import registered; from quantdesk.tasks import load_tasks; "
        "load_tasks(); print('backtest.run' in registered())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
