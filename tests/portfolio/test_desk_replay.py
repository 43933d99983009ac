"""End to end through the real event bus: the app's lifespan runs the desk, an admin steps a
paused replay (POST /api/v1/admin/replay, /step), a trader's order placed through the API
fills on the next step at that bar's open."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.kit.app_state import app_state
from quantdesk.marketdata.frames import BarFrame
from tests.support.accounts import bearer, create_user, login
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.paper import account_url, assert_ledger_clean, dec, trader
from tests.support.paper_desk import FRICTIONLESS

REPLAY = "/api/v1/admin/replay"


@pytest.fixture
async def stored(app: FastAPI) -> BarFrame:
    frame = synthetic_bars(10)
    await create_instrument(app_state(app).db, "TEST")
    await load_bars(app_state(app).db, "TEST", frame)
    return frame


async def test_an_order_placed_between_steps_fills_on_the_next_step_at_its_open(
    app: FastAPI, client: httpx.AsyncClient, stored: BarFrame
) -> None:
    db = app_state(app).db
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    headers = await trader(client, db)
    url, _ = await account_url(client, headers, fill_model=FRICTIONLESS)
    body = {"symbol": "TEST", "timeframe": "1d", "start": "2024-01-01", "paused": True}
    started = await client.post(REPLAY, json=body, headers=admin)
    assert started.status_code == 201, started.text
    step = await client.post(f"{REPLAY}/step", json={"bars": 1}, headers=admin)
    assert step.status_code == 200, step.text

    order = {"symbol": "TEST", "side": "buy", "type": "market", "qty": "10"}
    placed = await client.post(f"{url}/orders", json=order, headers=headers)
    assert placed.status_code == 201, placed.text
    order_url = f"{url}/orders/{placed.json()['id']}"
    assert (await client.get(order_url, headers=headers)).json()["status"] == "new"

    step = await client.post(f"{REPLAY}/step", json={"bars": 1}, headers=admin)
    assert step.status_code == 200, step.text
    filled = (await client.get(order_url, headers=headers)).json()
    open_1 = Decimal(repr(float(stored.open[1])))
    assert filled["status"] == "filled"
    assert dec(filled["filled_avg_price"]) == open_1.quantize(Decimal("1e-8"))
    [position] = (await client.get(f"{url}/positions", headers=headers)).json()["data"]
    assert dec(position["qty"]) == 10
    assert dec(position["current_price"]) == Decimal(repr(float(stored.close[1]))).quantize(
        Decimal("1e-8")
    )
    desk = app_state(app).desk
    assert desk is not None and desk.failed == 0
    await assert_ledger_clean(db)
    stopped = await client.delete(REPLAY, headers=admin)
    assert stopped.status_code == 200, stopped.text
