"""Replay refusals: one at a time (409), unknown symbol (404), no bars (422 naming the field),
bad input (422 naming the field), admin only (403); and every change is audited."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem

URL = "/api/v1/admin/replay"


def body(**overrides: Any) -> dict[str, Any]:
    return {"symbol": "TEST", "timeframe": "1d", "start": "2024-01-01", **overrides}


def fields(problem: dict[str, object]) -> list[str]:
    errors = problem["errors"]
    assert isinstance(errors, list)
    return [error["field"] for error in errors]


@pytest.mark.usefixtures("stored")
async def test_one_replay_at_a_time_and_controls_need_a_running_one(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for path in ("/step", "/pause", "/resume"):
        assert_problem(
            await client.post(URL + path, json={} if path == "/step" else None, headers=admin), 409
        )
    assert_problem(await client.delete(URL, headers=admin), 409)

    assert (await client.post(URL, json=body(speed=1), headers=admin)).status_code == 201
    problem = assert_problem(await client.post(URL, json=body(), headers=admin), 409)
    assert "DELETE /api/v1/admin/replay" in str(problem["detail"])
    # Stepping needs a paused replay.
    assert_problem(await client.post(f"{URL}/step", json={"bars": 1}, headers=admin), 409)
    assert (await client.delete(URL, headers=admin)).status_code == 200


@pytest.mark.usefixtures("stored")
async def test_unknown_symbol_no_bars_and_bad_input_are_named(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert_problem(await client.post(URL, json=body(symbol="NOPE"), headers=admin), 404)
    late = assert_problem(await client.post(URL, json=body(start="2030-01-01"), headers=admin), 422)
    assert fields(late) == ["body.start"]
    hourly = assert_problem(await client.post(URL, json=body(timeframe="1h"), headers=admin), 422)
    assert fields(hourly) == ["body.timeframe"]
    backwards = body(start="2024-02-01", end="2024-01-01")
    assert fields(assert_problem(await client.post(URL, json=backwards, headers=admin), 422)) == [
        "body.end"
    ]
    for bad, field in [
        (body(speed=-1), "body.speed"),
        (body(speed="fast"), "body.speed"),
        (body(timeframe="2d"), "body.timeframe"),
        (body(start="yesterday"), "body.start"),
        (body(symbol="GO OG"), "body.symbol"),
        (body(extra=1), "body.extra"),
        ({"timeframe": "1d", "start": "2024-01-01"}, "body.symbol"),
    ]:
        problem = assert_problem(await client.post(URL, json=bad, headers=admin), 422)
        assert field in fields(problem), (bad, problem)

    assert (await client.post(URL, json=body(paused=True), headers=admin)).status_code == 201
    for bad_step, field in [
        ({"bars": 0}, "body.bars"),
        ({"bars": "x"}, "body.bars"),
        ({"bars": 1, "more": True}, "body.more"),
    ]:
        problem = assert_problem(
            await client.post(f"{URL}/step", json=bad_step, headers=admin), 422
        )
        assert field in fields(problem)


@pytest.mark.usefixtures("stored")
async def test_admin_only_and_audited(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = bearer(await login(client, await create_user(app.state.db, Role.USER)))
    assert_problem(await client.get(URL, headers=user), 403)
    assert_problem(await client.post(URL, json=body(), headers=user), 403)
    assert_problem(await client.delete(URL, headers=user), 403)
    assert_problem(await client.get(URL), 401)

    started = (await client.post(URL, json=body(paused=True), headers=admin)).json()
    await client.post(f"{URL}/step", json={"bars": 2}, headers=admin)
    await client.delete(URL, headers=admin)
    audit = await client.get("/api/v1/admin/audit", params={"limit": 50}, headers=admin)
    assert audit.status_code == 200, audit.text
    events = [e for e in audit.json()["data"] if e["action"].startswith("replay.")]
    assert sorted(e["action"] for e in events) == [
        "replay.started",
        "replay.stepped",
        "replay.stopped",
    ]
    assert {e["resource_id"] for e in events} == {started["replay_id"]}
