"""POST /exports queues a job; GET answers status and manifest with a signed link; the file
holds exactly the query's rows in each format."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import httpx
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.jobs.runner import wait_for_spawned
from quantdesk.models import Bar, JobRun
from tests.support.exports import BAR_START, URL, create_export, exported, signed_in, store_bars

BARS = {"kind": "bars", "params": {"symbol": "EXPT", "timeframe": "1m"}}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
async def test_a_bars_export_holds_exactly_the_querys_rows(
    app: FastAPI, client: httpx.AsyncClient, db: Database, analyst: dict[str, str], fmt: str
) -> None:
    instrument_id = await store_bars(db, "EXPT", 2_500)
    await store_bars(db, "OTHER", 10)
    status, content = await exported(app, client, analyst, {**BARS, "format": fmt})
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).where(Bar.instrument_id == instrument_id, Bar.timeframe == "1m")
        )
    manifest = status["manifest"]
    assert manifest["rows"] == count == 2_500
    assert manifest["bytes"] == len(content)
    assert manifest["sha256"] == hashlib.sha256(content).hexdigest()
    assert [c["name"] for c in manifest["columns"]] == [
        "time",
        "open",
        "high",
        "low",
        "close",
        "volume",
    ]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(content.decode())))
        assert rows[0] == {
            "time": "2023-11-14T22:13:20Z",
            "open": "0.25",
            "high": "1.5",
            "low": "-0.5",
            "close": "0.75",
            "volume": "0.0",
        }
        assert len(rows) == 2_500 and rows[-1]["open"] == "2499.25"
    elif fmt == "parquet":
        table = pq.read_table(io.BytesIO(content))
        assert table.num_rows == 2_500
        assert table.column("time")[0].as_py().timestamp() == BAR_START
        assert table.column("close").to_pylist()[-1] == 2499.75
    else:
        lines = content.decode().splitlines()
        assert len(lines) == 2_500
        assert json.loads(lines[1]) == {
            "time": "2023-11-14T22:14:20+00:00",
            "open": 1.25,
            "high": 2.5,
            "low": 0.5,
            "close": 1.75,
            "volume": 1.0,
        }


async def test_the_export_runs_as_a_job_and_the_answer_carries_its_location(
    app: FastAPI, client: httpx.AsyncClient, db: Database, analyst: dict[str, str]
) -> None:
    await store_bars(db, "EXPT", 10)
    response = await client.post(URL, json={**BARS, "format": "csv"}, headers=analyst)
    assert response.status_code == 202
    export_id = response.json()["id"]
    assert response.headers["Location"] == f"{URL}/{export_id}"
    assert response.json()["status"] == "queued"
    await wait_for_spawned()
    await app.state.jobs.runner.drain()
    async with db.session() as session:
        jobs = list(
            (await session.execute(select(JobRun).where(JobRun.name == "exports.run"))).scalars()
        )
    assert [job.args for job in jobs] == [{"export_id": export_id}]


async def test_a_range_limits_the_rows_and_an_empty_result_is_a_file_of_no_rows(
    app: FastAPI, client: httpx.AsyncClient, db: Database, analyst: dict[str, str]
) -> None:
    await store_bars(db, "EXPT", 100)
    params = {
        "symbol": "expt",
        "timeframe": "1m",
        "start": "2023-11-14T22:23:20Z",
        "end": "2023-11-14T22:32:20Z",
    }
    status, content = await exported(
        app, client, analyst, {"kind": "bars", "format": "csv", "params": params}
    )
    assert status["manifest"]["rows"] == 10 and status["params"]["symbol"] == "EXPT"
    assert len(content.decode().splitlines()) == 11
    params = {"symbol": "EXPT", "timeframe": "1d"}
    status, content = await exported(
        app, client, analyst, {"kind": "bars", "format": "csv", "params": params}
    )
    assert status["manifest"]["rows"] == 0
    assert content.decode() == "time,open,high,low,close,volume\n"


KINDS = "'bars', 'signals', 'backtest_trades', 'orders', 'ledger' or 'audit'"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"kind": "bars", "format": "csv", "params": {}}, "params.symbol"),
        (
            {"kind": "bars", "format": "csv", "params": {"symbol": "EXPT", "timeframe": "2m"}},
            "params.timeframe",
        ),
        ({"kind": "bars", "format": "pdf", "params": {"symbol": "EXPT"}}, "format"),
        (
            {"kind": "bars", "format": "csv", "params": {"symbol": "EXPT", "limit": 5}},
            "params.limit",
        ),
        ({"kind": "trades", "format": "csv", "params": {}}, "kind"),
        ({"format": "csv", "params": {}}, "kind"),
        ({"kind": ["bars"], "format": "csv", "params": {}}, "kind"),
        ({"kind": "orders", "format": "csv", "params": {}}, "params.account_id"),
        (
            {"kind": "backtest_trades", "format": "csv", "params": {"symbol": "X"}},
            "params.run_id",
        ),
        (
            {
                "kind": "bars",
                "format": "csv",
                "params": {"symbol": "EXPT", "start": "2024-02-01", "end": "2024-01-01"},
            },
            "params",
        ),
        ({"kind": "bars", "format": "csv", "params": {"symbol": "NOPE"}}, "params.symbol"),
    ],
)
async def test_bad_params_are_422_naming_the_field(
    client: httpx.AsyncClient,
    db: Database,
    analyst: dict[str, str],
    body: dict[str, object],
    loc: str,
) -> None:
    await store_bars(db, "EXPT", 1)
    response = await client.post(URL, json=body, headers=analyst)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    # Located at the field itself: ["body", "params", "symbol"], never just ["body"] and never
    # through the union's tag (["body", "bars", "params", "symbol"]).
    expected = ["body", *loc.split(".")]
    assert any(error["loc"] == expected for error in errors), errors
    if loc == "kind":  # the union's tag: the allowed kinds are listed
        assert len(errors) == 1 and errors[0]["field"] == "body.kind", errors
        assert KINDS in errors[0]["msg"]


async def test_exports_need_the_export_data_scope_and_audit_needs_an_admin(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    analyst: dict[str, str],
    admin: dict[str, str],
) -> None:
    user = await signed_in(client, db, Role.USER)
    body = {"kind": "audit", "format": "csv"}
    assert (await client.post(URL, json={**BARS, "format": "csv"}, headers=user)).status_code == 403
    assert (await client.post(URL, json=body)).status_code in (401, 403)
    assert (await client.post(URL, json=body, headers=analyst)).status_code == 403
    status, content = await exported(app, client, admin, body)
    assert status["manifest"]["rows"] == len(content.decode().splitlines()) - 1 > 0
    assert content.decode().splitlines()[0].startswith("id,created_at,action,outcome")


async def test_list_get_and_delete_are_the_callers_own(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    analyst: dict[str, str],
    other_analyst: dict[str, str],
) -> None:
    await store_bars(db, "EXPT", 5)
    ids = [
        await create_export(client, analyst, {**BARS, "format": f})
        for f in ("csv", "json", "parquet")
    ]
    await app.state.jobs.runner.drain()
    first = await client.get(URL, params={"limit": 2}, headers=analyst)
    assert first.status_code == 200
    second = await client.get(
        URL, params={"limit": 2, "cursor": first.json()["meta"]["next_cursor"]}, headers=analyst
    )
    listed = [e["id"] for e in first.json()["data"] + second.json()["data"]]
    assert listed == ids[::-1] and second.json()["meta"]["next_cursor"] is None
    assert (await client.get(URL, headers=other_analyst)).json()["data"] == []
    assert (await client.get(f"{URL}/{ids[0]}", headers=other_analyst)).status_code == 404
    assert (await client.delete(f"{URL}/{ids[0]}", headers=other_analyst)).status_code == 404
    status = (await client.get(f"{URL}/{ids[0]}", headers=analyst)).json()
    assert (await client.delete(f"{URL}/{ids[0]}", headers=analyst)).status_code == 204
    assert (await client.get(f"{URL}/{ids[0]}", headers=analyst)).status_code == 404
    assert (await client.get(status["download_url"])).status_code == 404
