"""/api/v1/jobs: admins list runs, read statistics and run a job now; nobody else can."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.jobs.registry import JobContext
from tests.support.accounts import bearer, create_user, login
from tests.support.jobs import register
from tests.support.problems import assert_problem


async def _headers(client: httpx.AsyncClient, db: Database, role: Role) -> dict[str, str]:
    return bearer(await login(client, await create_user(db, role)))


def _runner(app: FastAPI) -> InProcessRunner:
    runner = app.state.jobs.runner
    assert isinstance(runner, InProcessRunner)
    return runner


PATHS = [
    ("GET", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/stats"),
    ("GET", "/api/v1/jobs/runs/1"),
    ("POST", "/api/v1/jobs/maintenance.cleanup/run"),
]


async def test_only_system_admins_may_use_jobs(client: httpx.AsyncClient, db: Database) -> None:
    callers = [await _headers(client, db, role) for role in (Role.USER, Role.ANALYST)]
    for method, path in PATHS:
        assert_problem(await client.request(method, path), 401)
        for headers in callers:
            body = assert_problem(await client.request(method, path, headers=headers), 403)
            assert "system:admin" in str(body["detail"])


async def test_run_now_queues_the_job_and_records_its_outcome(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    admin = await _headers(client, db, Role.ADMIN)
    response = await client.post("/api/v1/jobs/maintenance.cleanup/run", headers=admin)
    assert response.status_code == 202, response.text
    queued = response.json()["data"]
    assert queued["name"] == "maintenance.cleanup"
    assert queued["status"] == "queued"

    await _runner(app).drain()
    run = (await client.get(f"/api/v1/jobs/runs/{queued['run_id']}", headers=admin)).json()
    assert run["data"]["status"] == "succeeded"
    assert run["data"]["task_id"] == queued["task_id"]
    assert run["data"]["attempts"] == 1
    assert run["data"]["finished_at"].endswith("Z")
    # What it did: rows deleted per table, nothing written, nothing skipped.
    result = run["data"]["result"]
    assert result["counts"] == {
        "job_runs": 0,
        "provider_fetches": 0,
        "quarantined_rows": 0,
        "alert_events": 0,
    }
    assert (result["rows_written"], result["skipped"], result["reason"]) == (0, [], None)

    audit = (await client.get("/api/v1/admin/audit?action=jobs.run", headers=admin)).json()
    assert [e["resource_id"] for e in audit["data"]] == [str(queued["run_id"])]


async def test_a_run_with_nothing_to_do_is_skipped_and_says_why_in_the_api(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    """No economic series or fund configured (the defaults): the run is `skipped`, not a
    1 ms `succeeded`, and its result gives the reason, in the run and in the list."""
    admin = await _headers(client, db, Role.ADMIN)
    queued = (await client.post("/api/v1/jobs/economy.fetch_series/run", headers=admin)).json()[
        "data"
    ]
    await _runner(app).drain()

    run = (await client.get(f"/api/v1/jobs/runs/{queued['run_id']}", headers=admin)).json()
    assert run["data"]["status"] == "skipped" and run["data"]["error"] is None
    assert run["data"]["result"]["reason"] == (
        "no series configured (QUANTDESK_JOBS_ECONOMIC_SERIES and QUANTDESK_JOBS_FUND_NAVS "
        "are empty)"
    )
    listed = (
        await client.get("/api/v1/jobs?status=skipped&name=economy.fetch_series", headers=admin)
    ).json()
    assert [item["id"] for item in listed["data"]] == [queued["run_id"]]
    assert listed["data"][0]["result"] == run["data"]["result"]

    schema = app.openapi()["components"]["schemas"]
    declared = schema["JobRunRead"]["properties"]["result"]
    assert "#/components/schemas/JobResultRead" in str(declared)
    assert {"rows_written", "skipped", "reason"} <= set(schema["JobResultRead"]["properties"])
    assert "skipped" in schema["JobStatus"]["enum"]


async def test_run_now_passes_arguments_and_refuses_bad_ones(
    app: FastAPI, client: httpx.AsyncClient, db: Database, throwaway_tasks: list[str]
) -> None:
    seen: list[int] = []

    async def count(ctx: JobContext, *, n: int) -> None:
        seen.append(n)

    register(throwaway_tasks, "tests.count", count)
    admin = await _headers(client, db, Role.ADMIN)
    url = "/api/v1/jobs/tests.count/run"
    assert (await client.post(url, json={"args": {"n": 3}}, headers=admin)).status_code == 202
    await _runner(app).drain()
    assert seen == [3]

    body = assert_problem(await client.post(url, json={"args": {"m": 1}}, headers=admin), 422)
    assert "do not fit" in str(body["detail"])
    assert_problem(await client.post("/api/v1/jobs/no.such_job/run", headers=admin), 404)
    assert_problem(await client.post("/api/v1/jobs/Not A Name/run", headers=admin), 422)


async def test_runs_are_listed_newest_first_with_filters_and_pages(
    app: FastAPI, client: httpx.AsyncClient, db: Database, throwaway_tasks: list[str]
) -> None:
    async def ok(ctx: JobContext) -> None:
        return None

    async def bad(ctx: JobContext) -> None:
        raise ValueError("nope")

    register(throwaway_tasks, "tests.ok", ok)
    register(throwaway_tasks, "tests.bad", bad, max_retries=0)
    runner = _runner(app)
    ids = [(await runner.enqueue(name)).run_id for name in ("tests.ok", "tests.bad", "tests.ok")]
    await runner.drain()
    admin = await _headers(client, db, Role.ADMIN)

    everything = (await client.get("/api/v1/jobs", headers=admin)).json()
    assert [run["id"] for run in everything["data"]] == ids[::-1]
    failed = (await client.get("/api/v1/jobs?status=failed", headers=admin)).json()
    assert [(r["name"], r["error"]) for r in failed["data"]] == [("tests.bad", "ValueError: nope")]
    named = (await client.get("/api/v1/jobs?name=tests.ok&limit=1", headers=admin)).json()
    assert [run["id"] for run in named["data"]] == [ids[2]]
    assert named["meta"]["count"] == 1
    cursor = named["meta"]["next_cursor"]
    rest = (await client.get(f"/api/v1/jobs?name=tests.ok&cursor={cursor}", headers=admin)).json()
    assert [run["id"] for run in rest["data"]] == [ids[0]]
    assert rest["meta"]["next_cursor"] is None
    assert_problem(await client.get("/api/v1/jobs?status=lost", headers=admin), 422)
    assert_problem(await client.get("/api/v1/jobs/runs/999999", headers=admin), 404)


async def test_stats_show_the_runner_the_run_counts_and_the_schedule(
    app: FastAPI, client: httpx.AsyncClient, db: Database, throwaway_tasks: list[str]
) -> None:
    async def bad(ctx: JobContext) -> None:
        raise ValueError("nope")

    register(throwaway_tasks, "tests.bad", bad, max_retries=0)
    runner = _runner(app)
    await runner.enqueue("maintenance.cleanup")
    await runner.enqueue("tests.bad")
    await runner.drain()
    admin = await _headers(client, db, Role.ADMIN)

    response = await client.get("/api/v1/jobs/stats", headers=admin)
    assert response.status_code == 200, response.text
    stats = response.json()["data"]
    assert stats["backend"] == "inprocess"
    assert stats["queues"] == {"inprocess": 0}
    assert stats["active"] == 0
    assert len(stats["workers"]) == app.state.settings.jobs_workers
    assert stats["workers_healthy"] is True
    assert stats["runs"]["succeeded"] == 1
    assert stats["runs"]["failed"] == 1
    assert set(stats["runs"]) == {
        "queued",
        "running",
        "succeeded",
        "failed",
        "retrying",
        "skipped",
    }
    assert {"maintenance.cleanup", "marketdata.fetch_bars"} <= set(stats["registered"])
    schedule = {entry["name"]: entry for entry in stats["schedule"]}
    assert schedule["maintenance.cleanup"]["cron"] == "0 3 * * 0"
    assert schedule["maintenance.cleanup"]["next_run_at"].endswith("Z")
    # API tests build the app without `quantdesk serve`: nothing is scheduled in-process.
    assert not any(entry["runs_here"] for entry in stats["schedule"])
    assert stats["errors"] == []
