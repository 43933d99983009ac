"""since_seq: replay from the hub's bounded per-stream buffer, or a gap frame."""

from __future__ import annotations

from fastapi import FastAPI

from tests.support.realtime import WS, Reader, quote, sqlite_only, stream_client

pytestmark = sqlite_only


async def publish_quotes(app: FastAPI, count: int, symbol: str = "GOOG") -> None:
    for i in range(count):
        event = quote(symbol, ts=i)
        await app.state.events.publish(event.topic, event)


async def test_since_seq_replays_what_the_buffer_holds(app: FastAPI, ws_url: str) -> None:
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send({"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"]})
        epoch = (await reader.next_of("ack"))["epoch"]
        await publish_quotes(app, 4)
        assert [(await reader.next_of("price_update"))["seq"] for _ in range(4)] == [1, 2, 3, 4]
    # Disconnected; two more events go by. Reconnect and resume after seq 2.
    await publish_quotes(app, 2)
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send(
            {
                "action": "subscribe",
                "channel": "quotes",
                "symbols": ["GOOG"],
                "since_seq": 2,
                "epoch": epoch,
            }
        )
        await reader.next_of("ack")
        replayed = [await reader.next() for _ in range(4)]
        assert [f["seq"] for f in replayed] == [3, 4, 5, 6]
        assert {f["type"] for f in replayed} == {"price_update"}
        await publish_quotes(app, 1)  # live again, numbered on
        assert (await reader.next_of("price_update"))["seq"] == 7


async def test_a_gap_when_the_buffer_no_longer_holds_them(app: FastAPI, ws_url: str) -> None:
    await publish_quotes(app, 12)  # the test buffer keeps 5 per stream: seqs 8..12
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send(
            {"action": "subscribe", "channel": "quotes", "symbols": ["GOOG"], "since_seq": 3}
        )
        await reader.next_of("ack")
        gap = await reader.next()
        assert gap["type"] == "gap" and gap["channel"] == "quotes:GOOG"
        assert gap["since_seq"] == 3 and gap["missing_until"] == 7
        assert [(await reader.next())["seq"] for _ in range(5)] == [8, 9, 10, 11, 12]


async def test_a_gap_for_another_epoch_or_a_future_seq(app: FastAPI, ws_url: str) -> None:
    await publish_quotes(app, 3)
    async with stream_client(ws_url + WS) as ws:
        reader = Reader(ws)
        await reader.send(
            {
                "action": "subscribe",
                "channel": "quotes",
                "symbols": ["GOOG"],
                "since_seq": 1,
                "epoch": "another-replica",
            }
        )
        await reader.next_of("ack")
        gap = await reader.next()
        assert gap["type"] == "gap" and gap["missing_until"] is None and gap["last_seq"] == 3
        assert await reader.nothing_for(0.2)  # nothing from the other epoch is replayed
        await reader.send(
            {
                "action": "subscribe",
                "channel": "quotes",
                "symbols": ["GOOG"],
                "since_seq": {"quotes:GOOG": 99},
            }
        )
        await reader.next_of("ack")
        assert (await reader.next())["type"] == "gap"


async def test_only_the_most_recent_streams_keep_a_buffer(app: FastAPI, ws_url: str) -> None:
    app.state.settings.realtime_replay_streams = 2
    try:
        for symbol in ("A", "B", "C"):  # A's buffer is dropped when C's starts
            await publish_quotes(app, 2, symbol)
        async with stream_client(ws_url + WS) as ws:
            reader = Reader(ws)
            await reader.send(
                {"action": "subscribe", "channel": "quotes", "symbols": ["A", "C"], "since_seq": 0}
            )
            await reader.next_of("ack")
            frames = [await reader.next() for _ in range(3)]
        gap = next(f for f in frames if f["type"] == "gap")
        assert gap["channel"] == "quotes:A" and gap["missing_until"] == 2  # numbering kept
        assert [f["seq"] for f in frames if f["channel"] == "quotes:C"] == [1, 2]
    finally:
        app.state.settings.realtime_replay_streams = 1_000
