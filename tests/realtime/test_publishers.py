"""The new events are emitted by their domains in the transaction that causes them and reach
the bus after commit: new_signal, signal_closed, backtest_completed, job_failed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.backtest.events import BacktestCompleted
from quantdesk.db import Database
from quantdesk.infra.events import Event, Subscription
from quantdesk.jobs.events import JobFailed
from quantdesk.jobs.execution import run_attempt
from quantdesk.jobs.registry import JobContext, TaskSpec
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.service import bar_service, instrument_service
from quantdesk.models import SignalDirection
from quantdesk.signals.events import NewSignal, SignalClosed
from quantdesk.signals.service import signal_service
from tests.support.backtests import GOOG, REQUEST, URL, goog_frame, signed_in, wait_for
from tests.support.factories import create_instrument, load_bars
from tests.support.signals import after_close, create_signal, goog_window

DAY = 86_400
SOURCE = 1_704_067_200


async def drain(sub: Subscription, count: int) -> list[Event]:
    return [await asyncio.wait_for(sub.get(), 5) for _ in range(count)]


async def test_generated_signals_are_announced(app: FastAPI, db: Database) -> None:
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    async with await app.state.events.subscribe("signals.") as sub:
        async with db.session() as session:
            created = await signal_service.generate(
                session, now=after_close(window), settings=app.state.settings
            )
            assert created and len(sub) == 0  # nothing before the commit
        events = await drain(sub, len(created))
    payloads = [event.payload for event in events]
    assert all(isinstance(p, NewSignal) for p in payloads)
    assert {p.signal_id for p in payloads} == {s.id for s in created}  # type: ignore[attr-defined]
    assert {event.topic for event in events} == {"signals.GOOG"}


async def test_settled_signals_are_announced(app: FastAPI, db: Database) -> None:
    await create_instrument(db, "TEST")
    candles = [
        (100.0, 120.0, 80.0, 100.0),
        (100.0, 102.0, 99.0, 101.0),
        (101.0, 107.0, 100.0, 106.0),
    ]
    o, h, lo, c = (np.array(col, dtype=np.float64) for col in zip(*candles, strict=True))
    ts = SOURCE + DAY * np.arange(len(candles), dtype=np.int64)
    await load_bars(db, "TEST", BarFrame(ts, o, h, lo, c, np.full(len(candles), 1_000.0)))
    signal = await create_signal(
        db,
        direction=SignalDirection.LONG,
        target=106.0,
        stop=97.0,
        source_ts=SOURCE,
        lifetime_bars=3,
        expires_at=from_epoch(SOURCE + 4 * DAY),
    )
    async with await app.state.events.subscribe("signals.") as sub:
        async with db.session() as session:
            now = datetime.fromtimestamp(SOURCE + 40 * DAY, UTC)
            counts = await signal_service.evaluate(session, now=now)
        assert counts["target_hit"] == 1
        (event,) = await drain(sub, 1)
    assert isinstance(event.payload, SignalClosed)
    assert event.payload.signal_id == signal.id and event.payload.status == "target_hit"


async def test_a_finished_backtest_is_announced_to_its_owner(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    async with db.session() as session:
        await instrument_service.upsert(session, GOOG.instrument)
        await bar_service.ingest(
            session, symbol="GOOG", timeframe=GOOG.timeframe, frame=goog_frame()
        )
    headers = await signed_in(client, db, Role.PREMIUM)
    async with await app.state.events.subscribe("backtests.") as sub:
        response = await client.post(URL, json=REQUEST, headers=headers)
        assert response.status_code == 202, response.text
        run_id = response.json()["id"]
        assert (await wait_for(client, run_id, headers))["status"] == "completed"
        (event,) = await drain(sub, 1)
    assert isinstance(event.payload, BacktestCompleted)
    assert event.payload.backtest_id == run_id and event.payload.status == "completed"
    assert event.topic == f"backtests.{event.payload.user_id}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_job_that_fails_for_good_is_announced(app: FastAPI, db: Database) -> None:
    async def broken(ctx: JobContext, **_: Any) -> None:
        raise RuntimeError("the provider refused")

    async def enqueue(*_: Any, **__: Any) -> None:
        return None

    spec = TaskSpec("tests.broken", broken)
    async with await app.state.events.subscribe("jobs.") as sub:
        for attempt, retries_left in ((1, True), (2, False)):  # retrying, then failed
            with pytest.raises(RuntimeError):
                await run_attempt(
                    spec,
                    {},
                    db=db,
                    settings=app.state.settings,
                    runner="inprocess",
                    task_id=f"t-{attempt}",
                    attempt=attempt,
                    retries_left=retries_left,
                    enqueue=enqueue,
                )
        (event,) = await drain(sub, 1)
        assert len(sub) == 0  # the attempt that will be retried is not announced
    assert isinstance(event.payload, JobFailed)
    assert event.payload.task_id == "t-2" and event.payload.job == "tests.broken"
    assert event.payload.error is not None and "provider refused" in event.payload.error
