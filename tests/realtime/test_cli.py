"""`quantdesk stream GOOG` against a real server: prices, signals and (with a key) orders."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from typer.testing import CliRunner

from quantdesk.cli import app as cli
from quantdesk.signals.events import NewSignal
from tests.support.accounts import create_key, create_user, login
from tests.support.paper import create_account
from tests.support.realtime import WS, order, quote, sqlite_only

pytestmark = sqlite_only


async def test_stream_prints_prices_signals_and_orders(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str
) -> None:
    user = await create_user(app.state.db)
    tokens = await login(client, user)
    key = await create_key(client, tokens)
    account = await create_account(client, {"Authorization": f"Bearer {tokens['access_token']}"})
    args = ["stream", "goog", "--url", ws_url + WS, "--token", str(key["key"]), "--count", "3"]
    running = asyncio.create_task(asyncio.to_thread(CliRunner().invoke, cli, args))
    hub = app.state.realtime
    for _ in range(500):  # quotes, bars, signals, orders, alerts subscribed
        if sum(len(c.subscriptions) for c in hub.clients) == 5:
            break
        await asyncio.sleep(0.01)
    signal = NewSignal(1, "GOOG", "1d", "sma_cross", "long", 100.0, 110.0, 95.0, 0.7, 0, "x")
    update = order(account["id"], "fill")
    for payload in (quote(price=123.5), signal, update):
        await app.state.events.publish(payload.topic, payload)
    result = await asyncio.wait_for(running, 30)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("price_update" in line and "GOOG 123.5" in line for line in lines)
    assert any("new_signal" in line and "sma_cross long" in line for line in lines)
    assert any("order_update" in line and "fill" in line for line in lines)
    assert str(key["key"]) not in result.output


async def test_stream_reports_a_refused_connection(ws_url: str) -> None:
    args = ["stream", "GOOG", "--url", ws_url + WS, "--token", "qd_live_wrong"]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert result.exit_code == 1
    assert "4001" in result.output
