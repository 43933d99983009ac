"""Large sweeps run in chunks (backtest/sweeps.py) on the in-process runner: several symbols,
the grid split into many chunks, one ranked result equal to the single-process sweep of each
symbol ranked together; progress per chunk; the bounds of a request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.backtest import sweeps
from quantdesk.backtest.compute import run_sweep, to_bars
from quantdesk.backtest.events import BacktestCompleted, BacktestProgress
from quantdesk.backtest.schemas import SweepCreate
from quantdesk.backtest.service import _announce, backtest_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.backtest import Bars
from quantdesk.infra.events import Event
from quantdesk.infra.events.catalog import is_public
from quantdesk.models import BacktestRun, BacktestStatus
from quantdesk.realtime.routing import Route, route
from quantdesk.webhooks.events import WEBHOOK_EVENTS, outgoing
from tests.support.accounts import create_user
from tests.support.backtests import URL, wait_for
from tests.support.events import buffered, settle
from tests.support.factories import load_bars, synthetic_bars
from tests.support.problems import assert_problem
from tests.support.settings import make_settings
from tests.support.sweeps import chunk_rows, single_process, store_symbols

SYMBOLS = ["GOOG", "ALPHA", "BRAVO"]
GRID = {"fast": {"start": 3, "stop": 30, "step": 3}, "slow": {"start": 10, "stop": 60, "step": 5}}
SWEEP: dict[str, Any] = {"symbols": SYMBOLS, "cash": 10_000, "commission": 0.001, "grid": GRID}


@pytest.fixture
def settings(database_url: str) -> Settings:
    # GOOG has 2,148 bars: chunks of about 12 pairs, so each symbol's 90 pairs in several.
    return make_settings(
        database_url, backtest_sweep_chunk_work=25_000, backtest_max_sweep_cells=300
    )


@pytest.mark.parametrize("rank_by", ["sharpe", "max_drawdown_pct"])
async def test_a_multi_symbol_sweep_equals_the_single_process_sweeps_ranked_together(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    goog: Bars,
    premium: dict[str, str],
    rank_by: str,
) -> None:
    await store_symbols(db, SYMBOLS[1:])
    request = {**SWEEP, "rank_by": rank_by}
    async with await app.state.events.subscribe("backtests.") as events:
        response = await client.post(f"{URL}/sweep", json=request, headers=premium)
        assert response.status_code == 202, response.text
        run = await wait_for(client, response.json()["id"], premium)
        assert run["status"] == "completed", run["error"]
        await settle()
        seen = [event.payload for event in buffered(events)]

    expected = await single_process(db, settings, request)
    sweep = run["sweep"]
    assert sweep["results"] == expected["results"]  # every row, in the same order
    assert sweep["heatmaps"] == expected["heatmaps"]
    assert (sweep["symbols"], sweep["count"]) == (SYMBOLS, len(expected["results"]))
    assert "heatmap" not in sweep and set(sweep["bars"]) == set(SYMBOLS)

    total = run["chunks_total"]
    assert total > 2 * len(SYMBOLS) and run["chunks_done"] == total and run["progress"] == 1.0
    chunks = await chunk_rows(db, run["id"])
    assert len(chunks) == total and all(chunk.rows for chunk in chunks)
    assert sum(len(chunk.rows or []) for chunk in chunks) == sweep["count"]
    progress = [p for p in seen if isinstance(p, BacktestProgress)]
    assert [p.chunks_done for p in progress] == list(range(1, total + 1))
    assert progress[-1].percent == 100.0 and {p.chunks_total for p in progress} == {total}
    assert [p.status for p in seen if isinstance(p, BacktestCompleted)] == ["completed"]


async def test_one_symbol_in_chunks_equals_the_single_process_document(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    goog: Bars,
    premium: dict[str, str],
) -> None:
    request = {"symbol": "GOOG", "grid": GRID, "rank_by": "total_return_pct"}
    response = await client.post(f"{URL}/sweep", json=request, headers=premium)
    run = await wait_for(client, response.json()["id"], premium)
    assert run["status"] == "completed" and run["chunks_total"] > 1
    async with db.session() as session:
        found = await backtest_service.inputs(
            session, settings, SweepCreate.model_validate(request)
        )
    whole = run_sweep(found.request, to_bars(found.frame))  # type: ignore[arg-type]
    sweep = run["sweep"]
    assert [{k: v for k, v in row.items() if k != "symbol"} for row in sweep["results"]] == (
        whole["results"]
    )
    assert sweep["heatmap"] == whole["heatmap"] and sweep["count"] == whole["count"]
    assert run["bars"]["count"] == len(goog)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"symbols": [f"S{n}" for n in range(51)]}, "symbols", "at most 50"),
        ({"symbols": ["GOOG", "goog"]}, "symbols", "repeated: GOOG"),
        ({"symbol": "GOOG", "symbols": ["ALPHA", "GOOG"]}, "symbols", "not both"),
        ({"symbols": []}, "symbols", "at least 1"),
        ({"symbols": [*SYMBOLS, "CHARLIE", "DELTA"]}, "symbols", "90 pairs = 450 cells"),
    ],
    ids=["too-many-symbols", "repeated", "symbol-and-symbols", "empty", "too-many-cells"],
)
async def test_bad_multi_symbol_sweeps_are_422_naming_symbols(
    client: httpx.AsyncClient,
    db: Database,
    goog: Bars,
    premium: dict[str, str],
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    await store_symbols(db, ["ALPHA", "BRAVO", "CHARLIE", "DELTA"], bars=40)
    request = {**SWEEP, **change}
    body = assert_problem(await client.post(f"{URL}/sweep", json=request, headers=premium), 422)
    assert field in str(body) and message in str(body), body


async def test_an_unknown_symbol_among_several_is_not_found(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str]
) -> None:
    request = {**SWEEP, "symbols": ["GOOG", "NOPE"]}
    body = assert_problem(await client.post(f"{URL}/sweep", json=request, headers=premium), 404)
    assert "NOPE" in str(body["detail"])


async def _planned(db: Database, settings: Settings, request: dict[str, Any]) -> str:
    """A sweep run created and planned (its chunks recorded), none applied yet."""
    user = await create_user(db)
    async with db.session() as session:
        run, _ = await backtest_service.create(
            session, settings, user_id=user.id, body=SweepCreate.model_validate(request)
        )
        run.status = BacktestStatus.RUNNING
    body = SweepCreate.model_validate(run.request)
    await sweeps.plan(db, settings, run.id, body, backtest_service.inputs)
    await sweeps.plan(db, settings, run.id, body, backtest_service.inputs)  # planned once
    return run.id


async def _apply(db: Database, settings: Settings, run_id: str, chunk_no: int) -> bool:
    return await sweeps.apply_chunk(
        db, settings, run_id, chunk_no, inputs=backtest_service.inputs, announce=_announce
    )


async def test_a_chunk_delivered_twice_is_applied_once(
    db: Database, settings: Settings, goog: Bars
) -> None:
    run_id = await _planned(db, settings, {"symbol": "GOOG", "grid": GRID})
    chunks = await chunk_rows(db, run_id)
    assert len(chunks) > 2 and await sweeps.pending(db, run_id) == list(range(len(chunks)))
    assert await _apply(db, settings, run_id, 1) is True
    assert await _apply(db, settings, run_id, 1) is False  # a redelivery: nothing counted
    async with db.session() as session:
        run = await session.get(BacktestRun, run_id)
        assert run is not None and (run.chunks_done, run.status) == (1, BacktestStatus.RUNNING)
    for chunk_no in await sweeps.pending(db, run_id):
        assert await _apply(db, settings, run_id, chunk_no) is True
    assert await _apply(db, settings, run_id, 0) is False  # after the gather, too
    async with db.session() as session:
        run = await session.get(BacktestRun, run_id)
        assert run is not None and run.status is BacktestStatus.COMPLETED
        assert run.chunks_done == run.chunks_total == len(chunks)
        assert run.sweep is not None and run.sweep["count"] == 90


async def test_bars_that_change_under_a_running_sweep_fail_its_chunk(
    db: Database, settings: Settings, goog: Bars
) -> None:
    run_id = await _planned(db, settings, {"symbol": "GOOG", "grid": GRID})
    newer = synthetic_bars(1, start=int(goog.ts[-1]) + 86_400 * 3)  # type: ignore[index]
    await load_bars(db, "GOOG", newer)
    with pytest.raises(sweeps.BarsChanged, match="changed while the sweep ran"):
        await _apply(db, settings, run_id, 0)


def test_progress_is_a_public_stream_event_and_not_a_webhook_event() -> None:
    progress = BacktestProgress(7, "b1", 3, 12, 25.0)
    event = Event(progress.topic, progress)
    assert is_public(event) and route(event) == Route("jobs", "7", "jobs:backtests:7")
    assert outgoing(event) is None and "backtest_progress" not in WEBHOOK_EVENTS
    assert BacktestProgress.from_dict(progress.to_dict()) == progress
