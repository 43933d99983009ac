"""Prometheus figures of the streams: connections, subscriptions, messages, fan-out time."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from prometheus_client import REGISTRY

from tests.support.realtime import WS, Reader, quote, sqlite_only, stream_client

pytestmark = sqlite_only


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_stream_metrics_move(app: FastAPI, ws_url: str) -> None:
    connections, subscriptions = sample("ws_connections"), sample("ws_subscriptions")
    sent, fanouts = sample("ws_messages_sent_total"), sample("ws_fanout_seconds_count")
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["A", "B"]})
        await reader.next_of("ack")
        assert sample("ws_connections") == connections + 1
        assert sample("ws_subscriptions") == subscriptions + 2
        event = quote("A")
        await app.state.events.publish(event.topic, event)
        await reader.next_of("price_update")
        assert sample("ws_fanout_seconds_count") == fanouts + 1
        assert sample("ws_messages_sent_total") >= sent + 2  # the ack and the event
    for _ in range(100):
        if sample("ws_connections") == connections:
            break
        await asyncio.sleep(0.02)
    assert sample("ws_connections") == connections
    assert sample("ws_subscriptions") == subscriptions
