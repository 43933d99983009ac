"""Large-sweep helpers: synthetic symbols stored in the database, and the single-process
sweep of a request per symbol, ranked over all of them (what a chunked sweep must equal)."""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import select

from quantdesk.backtest.compute import run_sweep, to_bars
from quantdesk.backtest.schemas import SweepCreate
from quantdesk.backtest.service import backtest_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import BacktestSweepChunk
from tests.support.factories import create_instrument, load_bars, synthetic_bars

ASCENDING = {"max_drawdown_pct"}


async def store_symbols(db: Database, symbols: list[str], bars: int = 400) -> None:
    """Each symbol a random walk of ``bars`` daily bars (its own seed)."""
    for seed, symbol in enumerate(symbols, start=11):
        await create_instrument(db, symbol)
        await load_bars(db, symbol, synthetic_bars(bars, seed=seed, price=50.0 + seed))


def _rank_key(value: Any, metric: str) -> float:
    number = {None: math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value, value)
    key = float(number) if metric in ASCENDING else -float(number)
    return math.inf if math.isnan(key) else key


async def single_process(db: Database, settings: Settings, request: dict[str, Any]) -> Any:
    """``request``'s sweep run whole (compute.run_sweep, one call per symbol, as the service
    ran sweeps before chunks), its rows tagged with their symbol and ranked over all symbols
    with a stable sort from grid order; the heatmaps by symbol. JSON round-tripped, as
    stored."""
    body = SweepCreate.model_validate(request)
    rows: list[dict[str, Any]] = []
    heatmaps: dict[str, Any] = {}
    for symbol in body.symbols:
        alone = body.model_copy(update={"symbol": symbol, "symbols": [symbol]})
        async with db.session() as session:
            found = await backtest_service.inputs(session, settings, alone)
        document = run_sweep(found.request, to_bars(found.frame))  # type: ignore[arg-type]
        in_grid = sorted(document["results"], key=lambda row: (row["fast"], row["slow"]))
        rows += [{"symbol": symbol, **row} for row in in_grid]
        heatmaps[symbol] = document["heatmap"]
    ranked = sorted(rows, key=lambda row: _rank_key(row[body.rank_by], body.rank_by))
    return json.loads(json.dumps({"results": ranked, "heatmaps": heatmaps}))


async def chunk_rows(db: Database, run_id: str) -> list[BacktestSweepChunk]:
    async with db.session() as session:
        found = await session.scalars(
            select(BacktestSweepChunk)
            .where(BacktestSweepChunk.run_id == run_id)
            .order_by(BacktestSweepChunk.chunk_no)
        )
        return list(found)
