"""The seed aliases: pre-subscribed streams."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.support.paper import create_account, trader
from tests.support.realtime import Reader, order, quote, sqlite_only, stream_client


@sqlite_only
async def test_market_alias_streams_a_symbol_without_commands(app: FastAPI, ws_url: str) -> None:
    async with stream_client(ws_url + "/ws/market/goog") as ws:
        reader = Reader(ws)
        for _ in range(3):  # quotes, bars and signals acked
            await reader.next_of("ack")
        event = quote()
        await app.state.events.publish(event.topic, event)
        frame = await reader.next_of("price_update")
        assert frame["channel"] == "quotes:GOOG"


@sqlite_only
async def test_trading_alias_needs_a_user(ws_url: str) -> None:
    async with stream_client(ws_url + "/ws/trading") as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["A"]})
        assert await reader.closed_with() == 4001


async def test_trading_alias_streams_the_callers_orders(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str
) -> None:
    headers = await trader(client, app.state.db)
    account = await create_account(client, headers)
    async with stream_client(ws_url + "/ws/trading", headers) as ws:
        reader = Reader(ws)
        await reader.next_of("ack")
        await reader.next_of("ack")
        update = order(account["id"], "fill")
        await app.state.events.publish(update.topic, update)
        frame = await reader.next_of("order_update")
        assert frame["data"]["event"] == "fill"


@sqlite_only
async def test_news_alias_subscribes_every_symbol(ws_url: str) -> None:
    async with stream_client(ws_url + "/ws/news") as ws:
        ack = await Reader(ws).next_of("ack")
        assert ack["channels"] == ["news"] and ack["symbols"] == ["*"]
