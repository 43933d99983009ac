"""Resuming on another replica (QUANTDESK_EVENTS_BACKEND=redis): the sequence of a stream is
numbered in Redis for every replica and `since_seq` replays from the topic's Redis stream, so a
client that leaves replica A and reconnects to replica B gets exactly what it missed, then the
live events, with no gap and no duplicate, even while events keep coming."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from quantdesk.infra.events import RedisEventBus
from tests.support.realtime import WS, Reader, quote, sqlite_only, stream_client, uvicorn_replicas
from tests.support.servers import running_redis
from tests.support.settings import start_or_skip

pytestmark = sqlite_only


async def publish(bus: RedisEventBus, first: int, last: int, pause: float = 0.0) -> None:
    for n in range(first, last + 1):
        event = quote(price=float(n), ts=n)  # the n-th GOOG quote closes at n
        await bus.publish(event.topic, event)
        if pause:
            await asyncio.sleep(pause)


async def test_a_client_resumes_on_another_replica_without_a_gap(
    database_url: str, tmp_path: Path
) -> None:
    with contextlib.ExitStack() as stack:
        redis = start_or_skip(stack, running_redis())  # numbering starts at 1 in this Redis
        env = {
            "QUANTDESK_DATABASE_URL": database_url,
            "QUANTDESK_EVENTS_BACKEND": "redis",
            "QUANTDESK_REDIS_URL": redis.url,
            "QUANTDESK_PAPER_DESK_ENABLED": "false",
        }
        replicas = stack.enter_context(uvicorn_replicas(env, tmp_path, 2))
        a, b = (f"ws://127.0.0.1:{port}{WS}" for port in replicas)
        bus = RedisEventBus(redis.url)  # a worker publishing quotes
        try:
            async with stream_client(a) as ws:
                reader = Reader(ws)
                await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"]})
                epoch = (await reader.next_of("ack"))["epoch"]
                await publish(bus, 1, 3)
                frames = [await reader.next_of("price_update") for _ in range(3)]
                assert [f["seq"] for f in frames] == [1, 2, 3]
            await publish(bus, 4, 8)  # missed while disconnected
            # Reconnect to the other replica while events keep coming: backlog 4..8 from the
            # Redis stream, then live events, each seq once and in order.
            live = asyncio.create_task(publish(bus, 9, 40, pause=0.005))
            async with stream_client(b) as ws:
                reader = Reader(ws)
                await reader.send(
                    {
                        "action": "subscribe",
                        "channel": "quotes",
                        "symbols": ["GOOG"],
                        "since_seq": 3,
                        "epoch": epoch,
                    }
                )
                assert (await reader.next_of("ack"))["epoch"] == epoch  # one epoch in Redis
                received: list[dict[str, Any]] = []
                while not received or received[-1]["seq"] < 40:
                    frame = await reader.next()
                    if frame["type"] != "ping":
                        received.append(frame)
                await live
                assert {f["type"] for f in received} == {"price_update"}  # no gap frame
                assert [f["seq"] for f in received] == list(range(4, 41))
                assert [f["data"]["close"] for f in received] == [float(n) for n in range(4, 41)]
                assert await reader.nothing_for(0.3)  # and no duplicate after the last
            # The object form, back on the first replica.
            async with stream_client(a) as ws:
                reader = Reader(ws)
                await reader.send(
                    {
                        "action": "subscribe",
                        "channel": "quotes",
                        "symbols": ["GOOG"],
                        "since_seq": {"quotes:GOOG": 38},
                        "epoch": epoch,
                    }
                )
                await reader.next_of("ack")
                assert [(await reader.next())["seq"] for _ in range(2)] == [39, 40]
                await publish(bus, 41, 41)
                assert (await reader.next_of("price_update"))["seq"] == 41
        finally:
            await bus.aclose()
