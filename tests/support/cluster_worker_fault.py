"""A Celery worker killed whole in the middle of a sweep, under load (docs/scale-out.md,
"Faults"): the cluster's only worker is SIGKILLed (main and pool process) while it runs a
chunk, and started again. Redis hands the unacknowledged chunk out again once the broker's
visibility timeout has passed (the cluster sets 20 s); the sweep completes with the result of
the same sweep run without a fault, each chunk applied once. The API keeps answering
throughout. Used by tests/cluster/test_faults.py and `benchmarks.scaleout.run --fault worker`.

The cluster must run with small, slow chunks (`WORKER_FAULT_ENV`), so that a sweep is several
chunks long and the kill lands inside one."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from quantdesk.cluster.restart import kill_service, restart_service
from quantdesk.cluster.state import ClusterState
from tests.support.cluster import API, new_user, sign_in
from tests.support.cluster_load import OK, LoadRecord, background_load, prepare_users
from tests.support.cluster_outages import FaultReport

# GOOG 1d (the demo's 2,148 bars): 20 pairs, chunks of at most 2 pairs, each waiting
# CHUNK_DELAY s before it computes and commits.
CHUNK_DELAY = 0.6
JUST_STARTED = 0.3  # a chunk started less than this ago is still in its delay when killed
WORKER_FAULT_ENV = {
    "QUANTDESK_BACKTEST_SWEEP_CHUNK_WORK": "4400",
    "QUANTDESK_BACKTEST_SWEEP_CHUNK_DELAY_SECONDS": str(CHUNK_DELAY),
}
SWEEP: dict[str, Any] = {
    "symbols": ["GOOG"],
    "timeframe": "1d",
    "grid": {"fast": [5, 10, 15, 20], "slow": [30, 50, 100, 150, 200]},
    "rank_by": "sharpe",
}
CHUNK_JOB = "backtest.sweep_chunk"
SWEEP_DEADLINE = 90.0  # visibility timeout (20 s) + the workers' 5 s restore check + the rest


async def _sweep(client: httpx.AsyncClient, base: str, headers: dict[str, str]) -> str:
    response = await client.post(f"{base}{API}/backtests/sweep", json=SWEEP, headers=headers)
    response.raise_for_status()
    return str(response.json()["id"])


async def _wait(
    client: httpx.AsyncClient,
    base: str,
    headers: dict[str, str],
    run_id: str,
) -> dict[str, Any]:
    """The run once it has ended."""
    deadline = time.monotonic() + SWEEP_DEADLINE
    while time.monotonic() < deadline:
        response = await client.get(f"{base}{API}/backtests/{run_id}", headers=headers)
        response.raise_for_status()
        run: dict[str, Any] = response.json()
        if run["status"] in ("completed", "failed"):
            return run
        await asyncio.sleep(0.1)
    raise TimeoutError(f"sweep {run_id} did not end within {SWEEP_DEADLINE:.0f} s")


async def _chunk_jobs(
    client: httpx.AsyncClient, base: str, admin: dict[str, str], run_id: str
) -> list[Any]:
    response = await client.get(
        f"{base}{API}/jobs", params={"name": CHUNK_JOB, "limit": 500}, headers=admin
    )
    response.raise_for_status()
    return [job for job in response.json()["data"] if job["args"].get("run_id") == run_id]


async def _inside_a_chunk(
    client: httpx.AsyncClient, base: str, admin: dict[str, str], run_id: str, workers: int
) -> None:
    """Once a chunk has been applied and every worker has just started one (within
    JUST_STARTED s): each is still in its CHUNK_DELAY, so a kill now lands before its chunk
    commits. (A job row stays "running" a moment after its chunk committed: "running" alone
    is not enough.)"""
    deadline = time.monotonic() + SWEEP_DEADLINE
    while time.monotonic() < deadline:
        jobs = await _chunk_jobs(client, base, admin, run_id)
        now = datetime.now(UTC)
        running = [job for job in jobs if job["status"] == "running"]
        fresh = [
            job
            for job in running
            if now - datetime.fromisoformat(job["started_at"]) < timedelta(seconds=JUST_STARTED)
        ]
        succeeded = sum(job["status"] == "succeeded" for job in jobs)
        if succeeded >= 1 and len(running) >= workers and len(fresh) == len(running):
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"sweep {run_id}: never {workers} chunks running after one succeeded")


async def worker_killed_mid_sweep(state: ClusterState, worker: str = "worker1") -> FaultReport:
    """Kill `worker` (SIGKILL to its process group) while it runs a sweep's chunk, start it
    again at once, and judge: the sweep completes with the fault-free result, every chunk
    applied once (chunks_done == chunks_total, one job run per chunk), the killed chunk run
    twice, and the API answering as usual all along."""
    directory = Path(state.dir)
    failures: list[str] = []
    users = await prepare_users(state)
    async with httpx.AsyncClient(timeout=30) as client:
        _, token = await new_user(client, state.url)
        headers = {"Authorization": f"Bearer {token}"}
        admin_token = await sign_in(client, state.url, state.admin.email, state.admin.password)
        admin = {"Authorization": f"Bearer {admin_token}"}
        first = await _sweep(client, state.url, headers)
        reference = await _wait(client, state.url, headers, first)
        if reference["status"] != "completed":
            failures.append(f"the fault-free sweep ended {reference['status']}: {reference}")
        async with background_load(state, users) as record:
            start = time.monotonic()
            run_id = await _sweep(client, state.url, headers)
            await _inside_a_chunk(client, state.url, admin, run_id, state.workers)
            killed = time.monotonic()
            await asyncio.to_thread(kill_service, directory, worker)
            await asyncio.to_thread(restart_service, directory, worker)
            faulted = await _wait(client, state.url, headers, run_id)
            done = time.monotonic()
        jobs = await _chunk_jobs(client, state.url, admin, run_id)
    failures += _judge(reference, faulted, jobs, record, start, done)
    attempts = Counter(job["attempts"] for job in jobs)
    extra = (
        f"sweep of {faulted['chunks_total']} chunks completed {done - killed:.1f} s after the "
        f"kill; chunk runs by attempts {dict(sorted(attempts.items()))}"
    )
    phases = {"load": {kind: record.statuses(start, done, kind) for kind in OK}}
    name = "A Celery worker killed mid-sweep under load"
    return FaultReport(name, phases, None, None, failures, extra, store_outage=False)


def _judge(
    reference: dict[str, Any],
    faulted: dict[str, Any],
    jobs: list[Any],
    record: LoadRecord,
    start: float,
    done: float,
) -> list[str]:
    failures = []
    if faulted["status"] != "completed":
        failures.append(f"the sweep ended {faulted['status']}: {faulted['error']}")
    elif faulted["sweep"] != reference["sweep"]:
        failures.append("the sweep's result differs from the fault-free run's")
    total = faulted["chunks_total"]
    if not total or faulted["chunks_done"] != total:
        failures.append(f"chunks done {faulted['chunks_done']} of {total}")
    chunks = Counter(job["args"].get("chunk_no") for job in jobs)
    if len(jobs) != total or any(n != 1 for n in chunks.values()):
        failures.append(f"{len(jobs)} chunk job runs for {total} chunks: {dict(chunks)}")
    if not any(job["attempts"] >= 2 for job in jobs):
        failures.append("no chunk was run again: the kill did not land inside one")
    if {job["status"] for job in jobs} != {"succeeded"}:
        failures.append(f"chunk runs not all succeeded: {[j['status'] for j in jobs]}")
    for kind, expected in OK.items():
        statuses = record.statuses(start, done, kind)
        if set(statuses) != {expected}:
            failures.append(f"{kind} during the fault: {dict(statuses)}")
    return failures
