"""Multi-replica streams with QUANTDESK_EVENTS_BACKEND=redis: an event published by any
process reaches subscribers on every replica (two real uvicorn processes, one real Redis);
a replica whose Redis subscription is down fails /health/ready and resubscribes by itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.config import Settings
from quantdesk.infra.events import RedisEventBus
from tests.support.realtime import WS, Reader, quote, sqlite_only, stream_client, uvicorn_replicas
from tests.support.servers import RedisProcess, running_redis
from tests.support.settings import make_settings, start_or_skip

pytestmark = sqlite_only


async def test_an_event_reaches_subscribers_on_every_replica(
    redis_process: RedisProcess, database_url: str, tmp_path: Path
) -> None:
    env = {
        "QUANTDESK_DATABASE_URL": database_url,
        "QUANTDESK_EVENTS_BACKEND": "redis",
        "QUANTDESK_REDIS_URL": redis_process.url,
        "QUANTDESK_PAPER_DESK_ENABLED": "false",
    }
    with uvicorn_replicas(env, tmp_path, 2) as (one, two):
        bus = RedisEventBus(redis_process.url)  # a worker storing quotes, say
        try:
            async with (
                stream_client(f"ws://127.0.0.1:{one}{WS}") as ws_one,
                stream_client(f"ws://127.0.0.1:{two}{WS}") as ws_two,
            ):
                readers = [Reader(ws_one), Reader(ws_two)]
                for reader in readers:
                    await reader.send(
                        {"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"]}
                    )
                    await reader.next_of("ack")
                for i in range(20):
                    event = quote(price=100.0 + i, ts=i)
                    assert await bus.publish(event.topic, event) >= 2  # both replicas listen
                numbered = []
                for reader in readers:
                    frames = [await reader.next_of("price_update") for _ in range(20)]
                    assert [f["data"]["close"] for f in frames] == [100.0 + i for i in range(20)]
                    numbered.append([f["seq"] for f in frames])
                # One sequence per stream, numbered in Redis: both replicas say the same.
                first = numbered[0][0]
                assert numbered == [list(range(first, first + 20))] * 2
        finally:
            await bus.aclose()


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A Redis of this test alone (it is stopped and started again)."""
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_redis())


@pytest.fixture
def settings(database_url: str, own_redis: RedisProcess) -> Settings:
    return make_settings(
        database_url,
        events_backend="redis",
        redis_url=own_redis.url,
        realtime_bus_down_seconds=1.0,
        paper_desk_enabled=False,
    )


async def _ready(client: httpx.AsyncClient) -> int:
    return (await client.get("/health/ready")).status_code


async def test_a_lost_subscription_fails_readiness_and_recovers(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str, own_redis: RedisProcess
) -> None:
    assert await _ready(client) == 200
    own_redis.stop()
    for _ in range(50):  # readers notice (bounded reads): degraded, still ready
        grace = await client.get("/health/ready")
        if "event_subscription" in grace.json().get("degraded", {}):
            break
        await asyncio.sleep(0.05)
    assert grace.status_code == 200 and grace.json()["status"] == "degraded"
    assert grace.json()["degraded"]["event_subscription"]["status"] == "degraded"
    await asyncio.sleep(1.5)  # then down for > 1 s
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failing"]["event_subscription"]["status"] == "down"
    own_redis.start()
    for _ in range(100):  # capped back-off: resubscribed within a few seconds
        if await _ready(client) == 200:
            break
        await asyncio.sleep(0.1)
    assert await _ready(client) == 200
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"]})
        await reader.next_of("ack")
        event = quote()
        await app.state.events.publish(event.topic, event)
        assert (await reader.next_of("price_update"))["channel"] == "quotes:GOOG"
