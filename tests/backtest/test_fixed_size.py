"""POST /backtests with ``"sizing": {"size": 100}`` on the stored demo GOOG bars: the same
trades and final equity as backtesting.py's ``buy(size=100)`` SMA(10)/SMA(20) crossover."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import pytest

from quantdesk.engine.backtest import Bars
from tests.support.backtests import URL, wait_for
from tests.support.crossover_reference import goog_frame, run_fixed_size_crossover

FIXED: dict[str, Any] = {
    "symbol": "GOOG",
    "timeframe": "1d",
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 20},
    "slippage_bps": 0,
    "fill": "next_open",
    "sizing": {"size": 100},
    "allow_short": False,
}


async def _trades(client: httpx.AsyncClient, run_id: str, headers: dict[str, str]) -> list[Any]:
    seen: list[Any] = []
    cursor = None
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        page = (await client.get(f"{URL}/{run_id}/trades{query}", headers=headers)).json()
        seen += page["data"]
        cursor = page["meta"]["next_cursor"]
        if cursor is None:
            return seen


def _naive(iso: str) -> pd.Timestamp:
    return pd.Timestamp(iso).tz_convert(None)


@pytest.mark.parametrize(
    ("cash", "commission"),
    [(100_000, 0.0), (100_000, 0.002), (30_000, 0.002)],
    ids=["no-commission", "commission-0.2%", "one-entry-canceled"],
)
async def test_fixed_size_run_matches_backtesting_py(
    client: httpx.AsyncClient,
    goog: Bars,
    premium: dict[str, str],
    cash: float,
    commission: float,
) -> None:
    request = {**FIXED, "cash": cash, "commission": commission}
    response = await client.post(URL, json=request, headers=premium)
    assert response.status_code == 202, response.text
    run = await wait_for(client, response.json()["id"], premium)
    assert run["status"] == "completed", run["error"]
    assert run["request"]["sizing"] == {"size": 100.0}
    trades = await _trades(client, run["id"], premium)

    reference = run_fixed_size_crossover(goog_frame(), cash=cash, commission=commission)
    assert len(trades) == len(reference.trades) > 40
    for ours, theirs in zip(trades, reference.trades, strict=True):
        assert (ours["entry_bar"], ours["exit_bar"]) == (theirs.entry_bar, theirs.exit_bar)
        assert _naive(ours["entry_time"]) == theirs.entry_time
        assert _naive(ours["exit_time"]) == theirs.exit_time
        assert (ours["units"], ours["side"]) == (theirs.size, "long")
        assert (ours["entry_price"], ours["exit_price"]) == (
            theirs.entry_price,
            theirs.exit_price,
        )
    assert round(run["stats"]["equity_final"], 2) == round(reference.final_equity, 2)
    assert reference.open_trade is not None and run["open_position"] is not None
    assert run["open_position"]["units"] == reference.open_trade.size


@pytest.mark.parametrize(
    "sizing",
    [{"size": 0}, {"size": -100}, {"size": "100"}, {"size": 1e-9}, {"size": 1e13},
     {"size": 100, "fraction": 0.5}, {"units": 100}],
)  # fmt: skip
async def test_bad_fixed_sizes_are_422_naming_sizing(
    client: httpx.AsyncClient, premium: dict[str, str], sizing: Any
) -> None:
    response = await client.post(URL, json={**FIXED, "sizing": sizing}, headers=premium)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert any(error["loc"][:2] == ["body", "sizing"] for error in errors), errors
