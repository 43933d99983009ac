"""POST/GET/DELETE /api/v1/admin/replay on the real app: stored bars published in order as
replay events, paused stepping that waits for the desk, speed-0 pacing, the replayed quote."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from quantdesk.infra.events import MarketEvent, ReplayStatus
from quantdesk.kit.timeutil import from_epoch, iso_z
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.replay.service import ReplayManager
from tests.support.events import buffered
from tests.support.factories import START_2024
from tests.support.replay import SlowConsumer

URL = "/api/v1/admin/replay"
DAY = 86_400


def iso(ts: int) -> str:
    return iso_z(from_epoch(ts))


def body(**overrides: Any) -> dict[str, Any]:
    return {"symbol": "TEST", "timeframe": "1d", "start": "2024-01-01", **overrides}


async def finished(app: FastAPI) -> None:
    manager: ReplayManager = app.state.replay
    assert manager.current is not None
    await manager.current.wait()


async def test_a_replay_publishes_the_stored_bars_in_order_with_their_times(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], stored: BarFrame
) -> None:
    bus = app.state.events
    async with await bus.subscribe("market.") as subscription:
        end = iso(START_2024 + 19 * DAY)
        response = await client.post(URL, json=body(end=end, speed=0), headers=admin)
        assert response.status_code == 201, response.text
        started = response.json()
        assert started["symbol"] == "TEST" and started["bars_total"] == 20
        assert started["state"] in ("running", "finished")
        await finished(app)
        events = [event.payload for event in buffered(subscription)]
    first, *bars, last = events
    assert isinstance(first, ReplayStatus) and first.state == "started"
    assert (first.replay_id, first.start_ts) == (started["replay_id"], START_2024)
    assert isinstance(last, ReplayStatus) and last.state == "stopped"
    market = [bar for bar in bars if isinstance(bar, MarketEvent) and bar.source == "replay"]
    assert len(market) == len(bars)
    assert [bar.ts for bar in market] == stored.ts[:20].tolist()
    assert [bar.close for bar in market] == stored.close[:20].tolist()

    status = (await client.get(URL, headers=admin)).json()
    assert status["state"] == "finished" and status["bars_emitted"] == 20
    assert status["position"] == iso(int(stored.ts[19]))
    assert status["end"] == end and status["paused"] is False


async def test_a_paused_replay_steps_and_answers_after_the_desk_processed_the_bars(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], stored: BarFrame
) -> None:
    bus, progress = app.state.events, app.state.market_progress
    async with SlowConsumer(bus, progress, "market.bar.TEST.1d", delay=0.05) as desk:
        started = await client.post(URL, json=body(paused=True), headers=admin)
        assert started.status_code == 201 and started.json()["state"] == "paused"
        assert desk.processed == []

        step = await client.post(f"{URL}/step", json={"bars": 3}, headers=admin)
        assert step.status_code == 200, step.text
        answer = step.json()
        times = stored.ts[:3].tolist()
        assert [bar["ts"] for bar in answer["bars"]] == [iso(ts) for ts in times]
        assert answer["bars"][2]["close"] == stored.close[2]
        # Answered only once the (slow) desk had finished every one of them.
        assert desk.processed == times
        assert answer["status"]["bars_emitted"] == 3
        assert answer["status"]["position"] == iso(times[-1])

        await client.post(f"{URL}/step", json={"bars": 1}, headers=admin)
        assert desk.processed == stored.ts[:4].tolist()

        # To the end: fewer bars than asked, and the replay is finished.
        rest = (await client.post(f"{URL}/step", json={"bars": 100}, headers=admin)).json()
        assert len(rest["bars"]) == len(stored) - 4
        assert rest["status"]["state"] == "finished"
        assert desk.processed == stored.ts.tolist()
        assert (
            await client.post(f"{URL}/step", json={"bars": 1}, headers=admin)
        ).status_code == 409


async def test_speed_zero_never_outruns_a_slow_desk(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], stored: BarFrame
) -> None:
    bus, progress = app.state.events, app.state.market_progress
    async with SlowConsumer(bus, progress, "market.bar.TEST.1d", delay=0.01, maxsize=1) as desk:
        response = await client.post(URL, json=body(speed=0), headers=admin)
        assert response.status_code == 201
        await finished(app)
        assert desk.dropped == 0  # a one-event buffer never overflowed
        assert desk.processed == stored.ts.tolist()


async def test_pause_resume_stop_and_the_status(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], stored: BarFrame
) -> None:
    idle = await client.get(URL, headers=admin)
    assert idle.status_code == 200
    assert idle.json()["state"] == "idle" and "POST /api/v1/admin/replay" in idle.json()["hint"]

    bus = app.state.events
    async with await bus.subscribe("market.replay.TEST") as subscription:
        started = (await client.post(URL, json=body(speed=1), headers=admin)).json()
        paused = await client.post(f"{URL}/pause", headers=admin)
        assert paused.status_code == 200 and paused.json()["state"] == "paused"
        position = paused.json()["bars_emitted"]
        assert (await client.get(URL, headers=admin)).json()["bars_emitted"] == position
        resumed = await client.post(f"{URL}/resume", headers=admin)
        assert resumed.json()["state"] in ("running", "finished")
        await client.post(f"{URL}/pause", headers=admin)

        stopped = await client.delete(URL, headers=admin)
        assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
        states = [event.payload for event in buffered(subscription)]
        assert [(s.state, s.replay_id) for s in states if isinstance(s, ReplayStatus)] == [
            ("started", started["replay_id"]),
            ("stopped", started["replay_id"]),
        ]
    assert (await client.delete(URL, headers=admin)).status_code == 409
    assert (await client.get(URL, headers=admin)).json()["state"] == "stopped"


async def test_quotes_during_a_replay_are_the_replayed_ones(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], stored: BarFrame
) -> None:
    live = (await client.get("/api/v1/quotes/TEST")).json()
    assert live["data"]["price"] == stored.close[-1] and "replay" not in live["meta"]

    started = (await client.post(URL, json=body(paused=True), headers=admin)).json()
    await client.post(f"{URL}/step", json={"bars": 2}, headers=admin)
    replayed = (await client.get("/api/v1/quotes/test")).json()
    assert replayed["data"]["price"] == stored.close[1]
    assert replayed["data"]["previous_close"] == stored.close[0]
    assert replayed["data"]["source"] == "replay"
    assert replayed["meta"]["replay"] == {
        "replay_id": started["replay_id"],
        "ts": iso(int(stored.ts[1])),
    }

    await client.delete(URL, headers=admin)
    after = (await client.get("/api/v1/quotes/TEST")).json()
    assert after["data"]["price"] == stored.close[-1] and "replay" not in after["meta"]
