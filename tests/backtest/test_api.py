"""POST /backtests -> 202 + id, poll until completed: the stored figures are the engine's own
on the same bars; trades and equity read back; owners only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.backtest.compute import json_safe
from quantdesk.db import Database
from quantdesk.engine.backtest import Bars, SmaCross, Strategy
from quantdesk.engine.backtest.ema import EmaCross
from tests.support.backtests import REQUEST, URL, direct, signed_in, wait_for
from tests.support.problems import assert_problem

CASES = [
    pytest.param(
        {},
        SmaCross(10, 20),
        {"cash": 10_000, "commission": 0.002, "slippage_bps": 5, "allow_short": True},
        id="sma-long-short",
    ),
    pytest.param(
        {
            "strategy": "ema_cross",
            "params": {"fast": 8, "slow": 30},
            "sizing": {"fraction": 0.5},
            "allow_short": False,
            "stop_loss_pct": 4,
            "take_profit_pct": 12,
            "max_bars": 40,
            "fill": "close",
            "start": "2006-01-01",
            "end": "2011-12-31T00:00:00Z",
        },
        EmaCross(8, 30),
        {
            "cash": 10_000,
            "commission": 0.002,
            "slippage_bps": 5,
            "sizing": "fraction",
            "fraction": 0.5,
            "stop_loss_pct": 4,
            "take_profit_pct": 12,
            "max_bars": 40,
            "fill": "close",
        },
        id="ema-fraction-stops-window",
    ),
]


@pytest.mark.parametrize(("overrides", "strategy", "config"), CASES)
async def test_completed_run_equals_the_engine_on_the_same_bars(
    client: httpx.AsyncClient,
    goog: Bars,
    premium: dict[str, str],
    overrides: dict[str, Any],
    strategy: Strategy,
    config: dict[str, Any],
) -> None:
    response = await client.post(URL, json={**REQUEST, **overrides}, headers=premium)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"id", "status"} and len(accepted["id"]) == 32
    assert response.headers["location"] == f"{URL}/{accepted['id']}"

    run = await wait_for(client, accepted["id"], premium)
    assert run["status"] == "completed" and run["progress"] == 1.0 and run["error"] is None
    bars = goog
    if "start" in overrides:
        ts = goog.ts
        assert ts is not None
        keep = (ts >= 1_136_073_600) & (ts <= 1_325_289_600)  # 2006-01-01 .. 2011-12-31
        assert goog.volume is not None
        columns = (goog.open, goog.high, goog.low, goog.close, goog.volume, ts)
        bars = Bars.of(*(column[keep] for column in columns))
    expected = direct(bars, strategy, periods_per_year=252.0, **config)
    assert run["stats"] == json_safe(expected.stats)
    assert run["meta"] == json_safe(expected.meta)
    assert run["compat"] == json_safe(expected.compat)
    assert run["compat"]["backtesting_py"]["# Trades"] == len(expected.trades)
    assert run["bars"]["count"] == len(bars)
    assert run["request"]["periods_per_year"] == 252.0
    assert (run["open_position"] is None) == (expected.open_position is None)

    curve = (await client.get(f"{URL}/{accepted['id']}/equity", headers=premium)).json()
    assert set(curve) == {"t", "equity", "drawdown_pct"}
    assert curve["equity"] == expected.equity.tolist() and len(curve["t"]) == len(bars)
    assert curve["t"][0].endswith("Z")
    assert max(curve["drawdown_pct"]) == pytest.approx(expected.stats["max_drawdown_pct"])


async def test_trades_are_paginated_in_closing_order(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str]
) -> None:
    run_id = (await client.post(URL, json=REQUEST, headers=premium)).json()["id"]
    await wait_for(client, run_id, premium)
    expected = direct(
        goog, SmaCross(10, 20), cash=10_000, commission=0.002, slippage_bps=5, allow_short=True
    )
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"?limit=40&cursor={cursor}" if cursor else "?limit=40"
        page = (await client.get(f"{URL}/{run_id}/trades{query}", headers=premium)).json()
        assert page["meta"]["count"] == len(page["data"]) <= 40
        seen += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(expected.trades) > 40
    assert [t["pnl"] for t in seen] == expected.trades.pnl.tolist()
    first = seen[0]
    assert first["entry_bar"] == int(expected.trades.entry_bar[0])
    assert first["side"] in ("long", "short") and first["entry_time"].endswith("Z")
    assert first["duration_bars"] == first["exit_bar"] - first["entry_bar"]


async def test_equity_is_downsampled_to_the_points_asked_keeping_the_worst_drawdown(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str]
) -> None:
    run_id = (await client.post(URL, json=REQUEST, headers=premium)).json()["id"]
    run = await wait_for(client, run_id, premium)
    curve = (await client.get(f"{URL}/{run_id}/equity?points=50", headers=premium)).json()
    assert 2 <= len(curve["t"]) <= 50 and len(curve["equity"]) == len(curve["t"])
    assert curve["t"] == sorted(curve["t"])
    assert curve["t"][-1] == run["bars"]["last"]
    assert max(curve["drawdown_pct"]) == pytest.approx(run["stats"]["max_drawdown_pct"])
    assert_problem(await client.get(f"{URL}/{run_id}/equity?points=1", headers=premium), 422)


async def test_another_users_run_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, db: Database, goog: Bars, premium: dict[str, str]
) -> None:
    run_id = (await client.post(URL, json=REQUEST, headers=premium)).json()["id"]
    await wait_for(client, run_id, premium)
    other = await signed_in(client, db, Role.PREMIUM)
    missing = "0" * 32
    for suffix in ("", "/trades", "/equity"):
        theirs = assert_problem(await client.get(f"{URL}/{run_id}{suffix}", headers=other), 404)
        absent = assert_problem(await client.get(f"{URL}/{missing}{suffix}", headers=other), 404)
        for body in (theirs, absent):
            body.pop("request_id"), body.pop("instance")
        assert theirs == {**absent, "detail": f"no backtest run {run_id!r}"}
        assert (await client.get(f"{URL}/{run_id}{suffix}", headers=premium)).status_code == 200


async def test_runs_need_the_run_backtest_scope(client: httpx.AsyncClient, goog: Bars) -> None:
    assert_problem(await client.post(URL, json=REQUEST), 401)
    assert_problem(await client.get(f"{URL}/{'0' * 32}"), 401)


async def test_unknown_symbol_is_404_before_anything_is_queued(
    client: httpx.AsyncClient, premium: dict[str, str]
) -> None:
    body = assert_problem(
        await client.post(URL, json={**REQUEST, "symbol": "NOPE"}, headers=premium), 404
    )
    assert "NOPE" in str(body["detail"])


async def test_a_failed_run_stores_a_clear_error(
    app: FastAPI, client: httpx.AsyncClient, goog: Bars, premium: dict[str, str]
) -> None:
    app.state.settings.backtest_max_bars = 100
    run_id = (await client.post(URL, json=REQUEST, headers=premium)).json()["id"]
    run = await wait_for(client, run_id, premium)
    assert run["status"] == "failed" and run["stats"] is None
    assert "more than 100 1d bars" in run["error"] and "Traceback" not in run["error"]
    body = assert_problem(await client.get(f"{URL}/{run_id}/trades", headers=premium), 409)
    assert "failed" in str(body["detail"])


async def test_strategies_are_listed_with_their_parameter_schemas(
    client: httpx.AsyncClient, premium: dict[str, str]
) -> None:
    listed = (await client.get(f"{URL}/strategies", headers=premium)).json()
    names = {entry["name"]: entry for entry in listed["data"]}
    assert {"sma_cross", "ema_cross"} <= set(names)
    assert names["sma_cross"]["sweepable"] is True
    assert set(names["ema_cross"]["params"]["properties"]) == {"fast", "slow"}
