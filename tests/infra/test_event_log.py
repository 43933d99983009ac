"""The Redis bus's event log (infra/events/redis_log.py): every event is numbered per topic in
Redis, for every publisher, and kept in a capped per-topic stream that `read_log` reads back;
the envelope carries `seq` and `epoch` on the wire and nowhere else."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import redis

from quantdesk.infra.events import Event, MarketEvent, MemoryEventBus, RedisEventBus
from tests.support.servers import RedisProcess, running_redis
from tests.support.settings import start_or_skip


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_redis())


def quote(n: int, symbol: str = "GOOG") -> MarketEvent:
    return MarketEvent("quote", symbol, None, n, float(n), float(n), float(n), float(n), 0.0)


async def test_two_publishers_share_one_sequence_per_topic(own_redis: RedisProcess) -> None:
    one, two = RedisEventBus(own_redis.url), RedisEventBus(own_redis.url)
    try:
        sub = await one.subscribe("market.quote.")
        for n in range(1, 5):
            await (one if n % 2 else two).publish(quote(n).topic, quote(n))
        await one.publish(quote(1, "AAPL").topic, quote(1, "AAPL"))
        got = [await sub.get() for _ in range(5)]
        assert [(e.payload.symbol, e.seq) for e in got] == [  # type: ignore[attr-defined]
            ("GOOG", 1),
            ("GOOG", 2),
            ("GOOG", 3),
            ("GOOG", 4),
            ("AAPL", 1),
        ]
        epoch = await two.log_epoch()
        assert {e.epoch for e in got} == {epoch}
        held = await two.read_log("market.quote.GOOG", 1, 2)  # the newest 2 after seq 1
        assert (held.epoch, held.last_seq) == (epoch, 4)
        assert [(e.seq, e.payload) for e in held.events] == [(3, quote(3)), (4, quote(4))]
        assert (await two.read_log("market.quote.MSFT", 0, 10)).last_seq == 0
    finally:
        await one.aclose()
        await two.aclose()


async def test_a_flush_starts_a_new_epoch_at_seq_one(own_redis: RedisProcess) -> None:
    bus = RedisEventBus(own_redis.url)
    try:
        await bus.publish(quote(1).topic, quote(1))
        before = await bus.log_epoch()
        with redis.Redis.from_url(own_redis.url) as direct:
            direct.flushall()
        sub = await bus.subscribe(quote(1).topic)
        await bus.publish(quote(2).topic, quote(2))
        event = await sub.get()
        assert event.seq == 1 and event.epoch != before
        assert event.epoch == await bus.log_epoch()
    finally:
        await bus.aclose()


async def test_the_memory_bus_numbers_nothing() -> None:
    bus = MemoryEventBus()
    sub = await bus.subscribe("market.")
    await bus.publish(quote(1).topic, quote(1))
    event = await sub.get()
    assert (event.seq, event.epoch) == (None, None)
    assert b"seq" not in event.to_json()


def test_seq_and_epoch_round_trip_and_take_no_part_in_equality() -> None:
    numbered = Event(quote(1).topic, quote(1), 7, "ab12cd34")
    back = Event.from_json(numbered.to_json())
    assert (back.seq, back.epoch) == (7, "ab12cd34")
    assert back == Event(quote(1).topic, quote(1))
    with pytest.raises(ValueError, match="seq"):
        Event.from_json(numbered.to_json().replace(b'"seq":7', b'"seq":0'))
