"""since_seq with the Redis bus, in one process: a Redis that lost its data (FLUSHALL) has a
new epoch, so an old `since_seq` gets a gap rather than the new numbering's events; a since_seq
older than the topic's Redis stream still holds (MAXLEN ~ trimming) gets a gap naming what is
missing, then what is held."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx
import pytest
import redis
from fastapi import FastAPI

from quantdesk.config import Settings
from tests.support.paper import create_account, trader
from tests.support.realtime import WS, Reader, order, quote, sqlite_only, stream_client
from tests.support.servers import RedisProcess, running_redis
from tests.support.settings import make_settings, start_or_skip

pytestmark = sqlite_only


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A Redis of this test alone (its numbering starts at 1; it is flushed)."""
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_redis())


@pytest.fixture
def settings(database_url: str, own_redis: RedisProcess) -> Settings:
    return make_settings(
        database_url,
        events_backend="redis",
        redis_url=own_redis.url,
        paper_desk_enabled=False,
        events_stream_length=10,  # MAXLEN ~ 10: Redis trims whole stream nodes (100 entries)
        realtime_replay_buffer=1_000,
    )


async def publish_quotes(app: FastAPI, first: int, last: int) -> None:
    for n in range(first, last + 1):
        event = quote(price=float(n), ts=n)
        await app.state.events.publish(event.topic, event)


def subscribe(since: int, epoch: str) -> dict[str, object]:
    return {
        "action": "subscribe",
        "channel": "quotes",
        "symbols": ["GOOG"],
        "since_seq": since,
        "epoch": epoch,
    }


async def test_a_flushed_redis_is_a_new_epoch_and_a_gap(
    app: FastAPI, ws_url: str, own_redis: RedisProcess
) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"]})
        epoch = (await reader.next_of("ack"))["epoch"]
        await publish_quotes(app, 1, 3)
        assert [(await reader.next_of("price_update"))["seq"] for _ in range(3)] == [1, 2, 3]
    with redis.Redis.from_url(own_redis.url) as direct:
        direct.flushall()
    async with stream_client(ws_url + WS) as ws:  # nothing published since the flush
        reader = Reader(ws)
        await reader.send(subscribe(3, epoch))
        await reader.next_of("ack")
        gap = await reader.next()
        assert gap["type"] == "gap" and gap["channel"] == "quotes:GOOG"
        assert gap["missing_until"] is None and gap["last_seq"] == 0
        new_epoch = gap["epoch"]
        assert new_epoch != epoch
    await publish_quotes(app, 1, 2)  # numbered 1, 2 again, in the new epoch
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send(subscribe(1, epoch))  # seq 1 of the OLD numbering
        assert (await reader.next_of("ack"))["epoch"] == new_epoch
        gap = await reader.next()
        assert gap["type"] == "gap" and gap["missing_until"] is None and gap["last_seq"] == 2
        assert await reader.nothing_for(0.2)  # the new epoch's seq 2 is not passed off as old
        await publish_quotes(app, 3, 3)
        frame = await reader.next_of("price_update")
        assert (frame["seq"], frame["data"]["close"]) == (3, 3.0)
        await reader.send(subscribe(1, new_epoch))  # the new numbering replays
        await reader.next_of("ack")
        assert [(await reader.next())["seq"] for _ in range(2)] == [2, 3]


async def test_a_since_seq_older_than_the_redis_stream_gets_a_gap(
    app: FastAPI, ws_url: str
) -> None:
    await publish_quotes(app, 1, 250)  # the stream keeps >= 10, whole nodes trimmed
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"]})
        epoch = (await reader.next_of("ack"))["epoch"]
        await reader.send(subscribe(5, epoch))
        await reader.next_of("ack")
        gap = await reader.next()
        assert gap["type"] == "gap" and gap["since_seq"] == 5 and gap["last_seq"] == 250
        missing = gap["missing_until"]
        assert 100 <= missing <= 240  # trimmed, yet at least the last 10 are held
        replayed = [(await reader.next())["seq"] for _ in range(250 - missing)]
        assert replayed == list(range(missing + 1, 251))
        assert await reader.nothing_for(0.2)


async def test_a_replay_never_reads_someone_elses_orders(
    app: FastAPI, client: httpx.AsyncClient, ws_url: str
) -> None:
    db, bus = app.state.db, app.state.events
    alice, bob = await trader(client, db), await trader(client, db)
    mine = (await create_account(client, alice))["id"]
    theirs = (await create_account(client, bob))["id"]
    for event in ("accepted", "filled"):
        await bus.publish(f"orders.{mine}", order(mine, event))
        await bus.publish(f"orders.{theirs}", order(theirs, event))
    async with stream_client(ws_url + WS, alice) as ws:
        reader = Reader(ws)
        await reader.send(
            {
                "action": "subscribe",
                "channel": "orders",
                "since_seq": {f"orders:{theirs}": 0, f"orders:{mine}": 0},
            }
        )
        await reader.next_of("ack")
        frames = [await reader.next() for _ in range(2)]
        assert [(f["channel"], f["seq"]) for f in frames] == [(f"orders:{mine}", n) for n in (1, 2)]
        assert [f["data"]["event"] for f in frames] == ["accepted", "filled"]
        assert await reader.nothing_for(0.3)  # nothing of bob's, not even a gap
