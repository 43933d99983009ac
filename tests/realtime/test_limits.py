"""The per-connection limits, each observed on a real socket (uvicorn)."""

from __future__ import annotations

import asyncio

import httpx
import orjson
from fastapi import FastAPI

from quantdesk.realtime import metrics
from tests.support.paper import trader
from tests.support.realtime import WS, Reader, quote, sqlite_only, stream_client

pytestmark = sqlite_only


async def test_at_most_128_subscriptions(ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        symbols = [f"S{i}" for i in range(100)]
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": symbols})
        assert (await reader.next_of("ack"))["subscriptions"] == 100
        more = [f"T{i}" for i in range(29)]
        await reader.send({"action": "subscribe", "channel": "bars", "symbols": more})
        error = await reader.next_of("error")
        assert error["code"] == "too-many-subscriptions"
        assert error["errors"][0]["field"] == "symbols"
        await reader.send({"action": "subscribe", "channel": "bars", "symbols": more[:28]})
        assert (await reader.next_of("ack"))["subscriptions"] == 128


async def test_a_frame_over_64_kib_closes_1009(ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "ping"})
        await reader.next_of("pong")
        await ws.send(orjson.dumps({"action": "ping", "pad": "x" * 65_536}).decode())
        assert await reader.closed_with() == 1009


async def test_more_than_10_commands_per_second_closes_1008(ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        for _ in range(11):
            await reader.send({"action": "ping"})
        assert await reader.closed_with() == 1008


async def test_per_user_connection_cap(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str
) -> None:
    headers = await trader(client, app.state.db)  # the cap is 3 in these tests
    async with (
        stream_client(ws_url + WS, headers) as one,
        stream_client(ws_url + WS, headers) as two,
        stream_client(ws_url + WS, headers) as three,
    ):
        for ws in (one, two, three):
            await Reader(ws).send({"action": "ping"})
            await Reader(ws).next_of("pong")
        async with stream_client(ws_url + WS, headers) as four:
            assert await Reader(four).closed_with() == 4029
    async with stream_client(ws_url + WS, headers) as again:  # freed on close
        reader = Reader(again)
        await reader.send({"action": "ping"})
        await reader.next_of("pong")


async def test_a_slow_client_is_closed_4008_and_counted(app: FastAPI, ws_url: str) -> None:
    before = metrics.WS_SLOW_CLIENTS._value.get()
    hub = app.state.realtime
    subscribe = {"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"]}
    async with stream_client(ws_url + WS) as slow:
        slow_reader = Reader(slow)
        await slow_reader.send(subscribe)
        await slow_reader.next_of("ack")
        (slow_client,) = hub.clients
        async with stream_client(ws_url + WS) as fast:
            fast_reader = Reader(fast)
            await fast_reader.send(subscribe)
            await fast_reader.next_of("ack")
            # The slow one stops taking frames: its queue holds 50 at most (test setting);
            # the publisher, the hub and the other client never wait for it.
            slow_client._send = _never_returns
            for i in range(200):
                event = quote(ts=i)
                await app.state.events.publish(event.topic, event)
                if i % 20 == 0:
                    await asyncio.sleep(0)
            seen = [(await fast_reader.next_of("price_update"))["seq"] for _ in range(200)]
            assert seen == list(range(1, 201))
            assert await slow_reader.closed_with(wait=10) == 4008
    assert metrics.WS_SLOW_CLIENTS._value.get() == before + 1


async def _never_returns(text: str) -> None:
    await asyncio.Event().wait()


async def test_missing_pong_closes_the_connection(app: FastAPI, ws_url: str) -> None:
    app.state.settings.realtime_heartbeat_seconds = 0.4
    try:
        async with stream_client(ws_url + WS) as answering, stream_client(ws_url + WS) as mute:
            answering_reader, mute_reader = Reader(answering), Reader(mute)
            for reader in (answering_reader, mute_reader):
                await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["A"]})
                await reader.next_of("ack")

            async def answer_pings() -> int:
                for _ in range(5):  # five intervals, each ping answered
                    await answering_reader.next_of("ping")
                    await answering_reader.send({"action": "pong"})
                return 5

            async def wait_for_close() -> int | None:
                await mute_reader.next_of("ping")
                return await mute_reader.closed_with(wait=3)

            answered, code = await asyncio.gather(answer_pings(), wait_for_close())
            assert code == 4002
            assert answered == 5
            await answering_reader.send({"action": "ping"})
            assert (await answering_reader.next_of("pong"))["type"] == "pong"
    finally:
        app.state.settings.realtime_heartbeat_seconds = 30.0
