"""What POST /backtests accepts: strict bounds (422 naming the field), Idempotency-Key replays,
the backtests-create rate limit; runs that have not finished have no trades yet."""

from __future__ import annotations

from typing import Any

import httpx

from quantdesk.access.scopes import Role
from quantdesk.backtest.schemas import BacktestCreate
from quantdesk.backtest.service import backtest_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.backtest import Bars
from tests.support.backtests import REQUEST, URL, signed_in, wait_for
from tests.support.problems import assert_problem

BAD: list[tuple[dict[str, Any], list[str]]] = [
    ({"cash": 0}, ["body", "cash"]),
    ({"cash": "5000"}, ["body", "cash"]),
    ({"commission": 0.1}, ["body", "commission"]),
    ({"commission": -0.001}, ["body", "commission"]),
    ({"slippage_bps": 1000}, ["body", "slippage_bps"]),
    ({"sizing": {"fraction": 0}}, ["body", "sizing"]),
    ({"sizing": {"fraction": 1.5}}, ["body", "sizing"]),
    ({"sizing": "half"}, ["body", "sizing"]),
    ({"fill": "vwap"}, ["body", "fill"]),
    ({"stop_loss_pct": 100}, ["body", "stop_loss_pct"]),
    ({"max_bars": 0}, ["body", "max_bars"]),
    ({"timeframe": "2d"}, ["body", "timeframe"]),
    ({"strategy": "magic"}, ["body", "strategy"]),
    ({"leverage": 10}, ["body", "leverage"]),
    ({"start": "2012-01-01", "end": "2011-01-01"}, ["body"]),
    ({"params": {"fast": 30, "slow": 20}}, ["body", "params"]),
    ({"params": {"fast": 0}}, ["body", "params", "fast"]),
    ({"params": {"fast": "10"}}, ["body", "params", "fast"]),
    ({"params": {"window": 5}}, ["body", "params", "window"]),
]


async def test_bad_requests_are_422_naming_the_field(
    client: httpx.AsyncClient, premium: dict[str, str]
) -> None:
    for change, loc in BAD:
        response = await client.post(URL, json={**REQUEST, **change}, headers=premium)
        body = assert_problem(response, 422)
        errors: list[dict[str, Any]] = body["errors"]  # type: ignore[assignment]
        assert any(error["loc"][: len(loc)] == loc for error in errors), (change, errors)


async def test_a_range_without_bars_is_422(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str]
) -> None:
    late = {**REQUEST, "start": "2020-01-01"}
    body = assert_problem(await client.post(URL, json=late, headers=premium), 422)
    assert "fewer than 2" in str(body["detail"])


async def test_idempotency_key_answers_the_first_run(
    client: httpx.AsyncClient, db: Database, goog: Bars, premium: dict[str, str]
) -> None:
    key = {**premium, "Idempotency-Key": "run-goog-1"}
    first = await client.post(URL, json=REQUEST, headers=key)
    again = await client.post(URL, json=REQUEST, headers=key)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    fresh = await client.post(URL, json=REQUEST, headers=premium)
    assert fresh.json()["id"] != first.json()["id"]

    # Same key, different request: refused rather than silently answering the old run.
    changed = await client.post(URL, json={**REQUEST, "cash": 20_000}, headers=key)
    assert "different request" in str(assert_problem(changed, 409)["detail"])

    # Keys are per user: another user's identical key makes a run of their own.
    other = await signed_in(client, db, Role.PREMIUM)
    theirs = await client.post(
        URL, json=REQUEST, headers={**other, "Idempotency-Key": "run-goog-1"}
    )
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]


async def test_users_are_limited_to_three_runs_and_premium_is_exempt(
    client: httpx.AsyncClient, db: Database, goog: Bars, premium: dict[str, str]
) -> None:
    user = await signed_in(client, db, Role.USER)
    for _ in range(3):
        assert (await client.post(URL, json=REQUEST, headers=user)).status_code == 202
    refused = await client.post(URL, json=REQUEST, headers=user)
    body = assert_problem(refused, 429)
    assert "backtests-create" in str(body["detail"]) and int(refused.headers["retry-after"]) > 0
    sweep = {**REQUEST, "grid": {"fast": [5], "slow": [20]}}
    del sweep["params"]
    assert_problem(await client.post(f"{URL}/sweep", json=sweep, headers=user), 429)
    for _ in range(4):
        assert (await client.post(URL, json=REQUEST, headers=premium)).status_code == 202


async def test_a_queued_run_has_no_trades_until_it_has_run(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    goog: Bars,
    premium: dict[str, str],
) -> None:
    me = (await client.get("/api/v1/auth/me", headers=premium)).json()
    async with db.session() as session:
        run, created = await backtest_service.create(
            session, settings, user_id=me["id"], body=BacktestCreate.model_validate(REQUEST)
        )
    assert created
    queued = (await client.get(f"{URL}/{run.id}", headers=premium)).json()
    assert (queued["status"], queued["progress"], queued["stats"]) == ("queued", 0.0, None)
    body = assert_problem(await client.get(f"{URL}/{run.id}/trades", headers=premium), 409)
    assert "queued" in str(body["detail"])

    await backtest_service.execute(db, settings, run.id)
    done = await wait_for(client, run.id, premium)
    assert done["status"] == "completed" and done["started_at"] and done["finished_at"]
    # Executing again (a duplicate launch) leaves the finished run alone.
    await backtest_service.execute(db, settings, run.id)
    assert (await client.get(f"{URL}/{run.id}", headers=premium)).json() == done
