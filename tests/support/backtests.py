"""Shared helpers of the backtest tests: the demo GOOG bars, a standard request, signed-in
callers, polling a run, and the problem+json check."""

from __future__ import annotations

import asyncio
from importlib.resources import as_file, files
from typing import Any

import httpx

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.engine.backtest import BacktestConfig, Bars, Strategy, run_backtest
from quantdesk.marketdata import frames
from quantdesk.marketdata.demo import DEMO_SERIES
from tests.support.accounts import bearer, create_user, login

GOOG = DEMO_SERIES[0]
URL = "/api/v1/backtests"
REQUEST: dict[str, Any] = {
    "symbol": "GOOG",
    "timeframe": "1d",
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 20},
    "cash": 10_000,
    "commission": 0.002,
    "slippage_bps": 5,
    "fill": "next_open",
    "sizing": "all_in",
    "allow_short": True,
    "stop_loss_pct": None,
    "take_profit_pct": None,
    "max_bars": None,
}
SWEEP: dict[str, Any] = {
    "symbol": "GOOG",
    "cash": 10_000,
    "commission": 0.001,
    "grid": {"fast": {"start": 5, "stop": 30, "step": 5}, "slow": [20, 40, 60, 10]},
    "rank_by": "sharpe",
}


def goog_frame() -> frames.BarFrame:
    with as_file(files("backtesting.test") / GOOG.resource) as path:
        return frames.read_csv(path, name=GOOG.resource)


def goog_bars() -> Bars:
    frame = goog_frame()
    return Bars.of(frame.open, frame.high, frame.low, frame.close, frame.volume, frame.ts)


def direct(bars: Bars, strategy: Strategy, **config: Any) -> Any:
    """The engine's own result for ``strategy`` on ``bars``."""
    return run_backtest(
        bars.open,
        bars.high,
        bars.low,
        bars.close,
        bars.volume,
        bars.ts,
        strategy=strategy,
        config=BacktestConfig(**config),
    )


async def signed_in(client: httpx.AsyncClient, db: Database, role: Role) -> dict[str, str]:
    return bearer(await login(client, await create_user(db, role)))


async def wait_for(client: httpx.AsyncClient, run_id: str, headers: dict[str, str]) -> Any:
    """Poll GET /backtests/{id} until the run has finished; its final body."""
    for _ in range(600):
        response = await client.get(f"{URL}/{run_id}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] in ("queued", "running", "completed", "failed")
        if body["status"] in ("completed", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish")
