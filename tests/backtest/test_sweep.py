"""POST /backtests/sweep: every fast < slow pair, ranked, with the heatmap; and the ready
example on demo data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from quantdesk.backtest.compute import json_safe
from quantdesk.engine.backtest import Bars, SmaCross
from tests.support.backtests import SWEEP, URL, direct, wait_for
from tests.support.problems import assert_problem


async def test_sweep_ranks_every_pair_and_matches_single_runs(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str]
) -> None:
    response = await client.post(f"{URL}/sweep", json=SWEEP, headers=premium)
    assert response.status_code == 202, response.text
    run = await wait_for(client, response.json()["id"], premium)
    assert run["status"] == "completed" and run["kind"] == "sweep" and run["stats"] is None
    sweep = run["sweep"]
    fast, slow = [5, 10, 15, 20, 25, 30], [10, 20, 40, 60]
    pairs = {(row["fast"], row["slow"]) for row in sweep["results"]}
    assert pairs == {(f, s) for f in fast for s in slow if f < s}
    assert sweep["count"] == len(pairs)
    sharpes = [row["sharpe"] for row in sweep["results"]]
    assert sharpes == sorted(sharpes, reverse=True)

    best = sweep["results"][0]
    single = direct(goog, SmaCross(best["fast"], best["slow"]), cash=10_000, commission=0.001)
    for metric in ("sharpe", "total_return_pct", "max_drawdown_pct", "trades"):
        assert best[metric] == pytest.approx(json_safe(single.stats[metric]), rel=1e-9)

    heatmap = sweep["heatmap"]
    assert (heatmap["x"], heatmap["y"], heatmap["metric"]) == (slow, fast, "sharpe")
    z = heatmap["z"]
    assert len(z) == len(fast) and all(len(row) == len(slow) for row in z)
    assert z[fast.index(best["fast"])][slow.index(best["slow"])] == best["sharpe"]
    assert z[fast.index(20)][slow.index(10)] is None  # fast >= slow is not a pair

    body = assert_problem(await client.get(f"{URL}/{run['id']}/trades", headers=premium), 409)
    assert "sweep" in str(body["detail"])


@pytest.mark.parametrize(
    ("grid", "rank_by", "message"),
    [
        ({"fast": {"start": 1, "stop": 60}, "slow": {"start": 61, "stop": 150}}, "sharpe", "5,400"),
        ({"fast": [50, 60], "slow": [10, 20]}, "sharpe", "no pair"),
        ({"fast": [5], "slow": [20]}, "luck", "unknown metric"),
        ({"fast": [5], "slow": [20], "mid": [9]}, "sharpe", "Extra inputs"),
    ],
    ids=["too-many-combinations", "no-fast-below-slow", "unknown-metric", "unknown-axis"],
)
async def test_bad_sweeps_are_422(
    client: httpx.AsyncClient,
    goog: Bars,
    premium: dict[str, str],
    grid: dict[str, Any],
    rank_by: str,
    message: str,
) -> None:
    request = {**SWEEP, "grid": grid, "rank_by": rank_by}
    body = assert_problem(await client.post(f"{URL}/sweep", json=request, headers=premium), 422)
    assert message in str(body), body


async def test_example_is_smacross_with_the_defaults_on_demo_goog(
    client: httpx.AsyncClient, goog: Bars
) -> None:
    response = await client.get("/api/v1/backtest/example")  # read:tickers: guests may
    assert response.status_code == 200, response.text
    example = response.json()
    expected = direct(goog, SmaCross(10, 20), cash=10_000, commission=0.002, allow_short=False)
    assert example["stats"] == json_safe(expected.stats)
    assert example["compat"] == json_safe(expected.compat)
    assert example["request"]["params"] == {"fast": 10, "slow": 20}
    assert len(example["trades"]) == len(expected.trades)
    assert 2 <= len(example["equity"]["t"]) <= 500
    assert example["bars"]["count"] == len(goog)


async def test_example_without_the_demo_says_how_to_load_it(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/backtest/example"), 404)
    assert "quantdesk demo load" in str(body["detail"])
