"""/api/v1/ws: authentication, subscriptions, frames, scopes (against a real uvicorn)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.portfolio.events import AlertTriggered
from tests.support.accounts import create_key, create_user, login
from tests.support.paper import create_account, trader
from tests.support.realtime import WS, Reader, order, quote, sqlite_only, stream_client


@sqlite_only
async def test_guest_streams_quotes_with_per_stream_seq(app: FastAPI, ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["goog"]})
        ack = await reader.next_of("ack")
        assert ack["channels"] == ["quotes"] and ack["symbols"] == ["GOOG"]
        bus = app.state.events
        await bus.publish("market.quote.AAPL", quote("AAPL"))  # not subscribed
        for i in range(3):
            await bus.publish("market.quote.GOOG", quote(price=100.0 + i, ts=i))
        frames = [await reader.next_of("price_update") for _ in range(3)]
        assert [f["seq"] for f in frames] == [1, 2, 3]
        assert {f["channel"] for f in frames} == {"quotes:GOOG"}
        assert frames[2]["data"]["close"] == 102.0
        assert set(frames[0]) == {"type", "channel", "seq", "data", "timestamp"}
        assert await reader.nothing_for(0.2)


@sqlite_only
async def test_pending_frames_go_out_as_one_array(app: FastAPI, ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "symbol": "BTC/USDT"})  # quotes + signals
        ack = await reader.next_of("ack")
        assert ack["channels"] == ["quotes", "signals"]
        for i in range(50):  # published in one go: the hub queues them before the sender runs
            await app.state.events.publish("market.quote.BTC/USDT", quote("BTC/USDT", ts=i))
        seqs = [(await reader.next_of("price_update"))["seq"] for _ in range(50)]
        assert seqs == list(range(1, 51))
        assert reader.arrays >= 1 and reader.messages < 50


@sqlite_only
async def test_bad_commands_get_problem_frames_naming_the_field(ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "candles", "symbols": ["A"], "id": 7})
        error = await reader.next_of("error")
        assert error["status"] == 422 and error["id"] == 7
        assert error["errors"][0]["field"] == "channel"
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": []})
        assert (await reader.next_of("error"))["errors"][0]["field"] == "symbols"
        await ws.send("not json")
        assert (await reader.next_of("error"))["errors"][0]["field"] == "body"
        await reader.send({"action": "ping", "id": "p"})
        assert (await reader.next_of("pong"))["id"] == "p"


@sqlite_only
async def test_guests_get_public_market_data_only(ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        for channel in ("orders", "alerts", "jobs"):
            await reader.send({"action": "subscribe", "channel": channel})
            error = await reader.next_of("error")
            assert error["status"] == 401 and error["errors"][0]["field"] == "channel"


@sqlite_only
async def test_no_credentials_and_silence_closes_4001(ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        assert await Reader(ws).closed_with() == 4001


@sqlite_only
async def test_bad_token_closes_4001(ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "auth", "token": "qd_live_nonsense"})
        assert await reader.closed_with() == 4001
    async with stream_client(ws_url + WS, {"Authorization": "Bearer nope"}) as ws:
        assert await Reader(ws).closed_with() == 4001


@sqlite_only
async def test_tokens_in_the_url_are_refused(ws_url: str) -> None:
    async with stream_client(ws_url + WS + "?token=abc") as ws:
        assert await Reader(ws).closed_with() == 4001


async def test_orders_reach_only_the_owner_including_accounts_opened_later(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str
) -> None:
    db = app.state.db
    alice = await trader(client, db)
    bob = await trader(client, db)
    bob_account = await create_account(client, bob)
    async with stream_client(ws_url + WS, alice) as ws:  # Authorization on the upgrade
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "orders"})
        await reader.next_of("ack")
        account = await create_account(client, alice)  # opened after subscribing
        bus = app.state.events
        await bus.publish(f"orders.{bob_account['id']}", order(bob_account["id"]))
        await bus.publish(f"orders.{account['id']}", order(account["id"]))
        frame = await reader.next_of("order_update")
        assert frame["channel"] == f"orders:{account['id']}"
        assert frame["data"]["account_id"] == account["id"]
        assert await reader.nothing_for(0.2)


async def test_first_message_auth_with_an_api_key_and_alerts(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str
) -> None:
    user = await create_user(app.state.db)
    key = await create_key(client, await login(client, user))
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "auth", "token": key["key"]})
        assert (await reader.next_of("ack"))["user_id"] == user.id
        await reader.send({"action": "subscribe", "channel": "alerts"})
        await reader.next_of("ack")
        for uid in (user.id + 1000, user.id):
            alert = AlertTriggered(uid, "a1", "GOOG", "above", "1", "2", 5)
            await app.state.events.publish(alert.topic, alert)
        frame = await reader.next_of("alert_triggered")
        assert frame["data"]["user_id"] == user.id
        assert frame["channel"] == f"alerts:{user.id}"


async def test_jobs_admin_sees_all_users_see_their_own(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str
) -> None:
    from quantdesk.backtest.events import BacktestCompleted
    from quantdesk.jobs.events import JobFailed

    db = app.state.db
    admin = await create_user(db, Role.ADMIN)
    user = await create_user(db)
    admin_headers = {"Authorization": f"Bearer {(await login(client, admin))['access_token']}"}
    user_headers = {"Authorization": f"Bearer {(await login(client, user))['access_token']}"}
    async with (
        stream_client(ws_url + WS, admin_headers) as admin_ws,
        stream_client(ws_url + WS, user_headers) as user_ws,
    ):
        admin_reader, user_reader = Reader(admin_ws), Reader(user_ws)
        for reader in (admin_reader, user_reader):
            await reader.send({"action": "subscribe", "channel": "jobs"})
            await reader.next_of("ack")
        failed = JobFailed("r1", "marketdata.fetch_bars", "boom", "2026-01-01T00:00:00Z")
        theirs = BacktestCompleted(admin.id, "b1", "backtest", "GOOG", "completed")
        mine = BacktestCompleted(user.id, "b2", "backtest", "GOOG", "completed")
        for payload in (failed, theirs, mine):
            await app.state.events.publish(payload.topic, payload)
        seen = [(await admin_reader.next())["type"] for _ in range(3)]
        assert sorted(seen) == ["backtest_completed", "backtest_completed", "job_failed"]
        frame = await user_reader.next_of("backtest_completed")
        assert frame["data"]["backtest_id"] == "b2"
        assert await user_reader.nothing_for(0.2)
