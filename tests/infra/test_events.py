"""The event bus: the same cases against the in-process bus and a real Redis (infra/events).

Delivery is awaited with `asyncio.wait_for` on the subscription and a generous timeout; no
test asserts on how long anything took.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.config import ConfigError, Settings
from quantdesk.infra.events import (
    Event,
    EventBus,
    MarketEvent,
    MemoryEventBus,
    RedisEventBus,
    SubscriptionClosed,
    build_event_bus,
    market_topic,
)
from quantdesk.kit.app_state import app_state
from tests.support.events import bar, next_event, quote
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings, sqlite_url

BusMaker = Callable[..., EventBus]
BUS_KINDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=BUS_KINDS)
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusMaker]:
    """Builds buses of one kind; on Redis every bus of a test shares one fresh channel prefix,
    like the processes of one deployment (each bus is one process's view)."""
    url: str | None = None
    if request.param == "redis":
        redis_process: RedisProcess = request.getfixturevalue("redis_process")
        url = redis_process.url
    prefix = f"test:{uuid.uuid4().hex}:"
    made: list[EventBus] = []
    shared_memory: MemoryEventBus | None = None

    def make(**options: Any) -> EventBus:
        nonlocal shared_memory
        bus: EventBus
        if url is not None:
            bus = RedisEventBus(url, channel_prefix=prefix, **options)
        else:
            # In process there is one bus per process; a second "instance" is the same one.
            if shared_memory is None:
                shared_memory = MemoryEventBus(**options)
            bus = shared_memory
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.aclose()


async def publish_all(bus: EventBus, events: list[MarketEvent]) -> None:
    for event in events:
        await bus.publish(event.topic, event)


async def test_an_exact_subscription_gets_its_topic_only(make_bus: BusMaker) -> None:
    bus = make_bus()
    sub = await bus.subscribe("market.bar.GOOG.1d")
    await publish_all(bus, [bar("GOOG", 1, timeframe="1h"), bar("MSFT", 2), quote("GOOG", 3)])
    wanted = bar("GOOG", 4)
    assert await bus.publish(wanted.topic, wanted) == 1
    event = await next_event(sub)
    assert event == Event("market.bar.GOOG.1d", wanted)
    assert sub.get_nowait() is None


async def test_a_prefix_subscription_gets_every_topic_under_it(make_bus: BusMaker) -> None:
    bus = make_bus()
    bars = await bus.subscribe("market.bar.")
    everything = await bus.subscribe("market.")
    sent = [bar("GOOG", 1), quote("GOOG", 2), bar("MSFT", 3, timeframe="1h")]
    await publish_all(bus, sent)
    assert [(await next_event(bars)).payload for _ in range(2)] == [sent[0], sent[2]]
    got = [await next_event(everything) for _ in range(3)]
    assert [event.topic for event in got] == [
        "market.bar.GOOG.1d",
        "market.quote.GOOG",
        "market.bar.MSFT.1h",
    ]
    assert [event.payload for event in got] == sent


async def test_events_arrive_in_publish_order(make_bus: BusMaker) -> None:
    bus = make_bus()
    sub = await bus.subscribe("market.bar.GOOG.1d")
    sent = [bar("GOOG", ts) for ts in range(200)]
    await publish_all(bus, sent)
    assert [(await next_event(sub)).payload for _ in sent] == sent


async def test_two_subscribers_each_get_every_event(make_bus: BusMaker) -> None:
    bus = make_bus()
    first = await bus.subscribe("market.quote.GOOG")
    second = await bus.subscribe("market.quote.GOOG")
    sent = [quote("GOOG", ts) for ts in range(20)]
    for event in sent:
        assert await bus.publish(event.topic, event) == 2
    for sub in (first, second):
        assert [(await next_event(sub)).payload for _ in sent] == sent


async def test_a_closed_subscription_gets_nothing_more(make_bus: BusMaker) -> None:
    bus = make_bus()
    leaving = await bus.subscribe("market.bar.")
    staying = await bus.subscribe("market.bar.")
    await publish_all(bus, [bar("GOOG", 1)])
    await next_event(leaving)
    await next_event(staying)
    await leaving.aclose()
    await leaving.aclose()  # idempotent
    later = bar("GOOG", 2)
    await bus.publish(later.topic, later)
    assert (await next_event(staying)).payload == later
    assert leaving.closed and len(leaving) == 0
    with pytest.raises(SubscriptionClosed):
        await leaving.get()
    assert [event async for event in leaving] == []


async def test_a_reader_waiting_on_a_subscription_is_released_when_it_closes(
    make_bus: BusMaker,
) -> None:
    bus = make_bus()
    async with await bus.subscribe("market.") as sub:
        received: list[Event] = []

        async def consume() -> None:
            async for event in sub:
                received.append(event)

        reader = asyncio.create_task(consume())
        first = quote("GOOG", 1)
        await bus.publish(first.topic, first)
        await sub.aclose()
        await asyncio.wait_for(reader, timeout=10)
    assert [event.payload for event in received] in ([], [first])


async def test_closing_the_bus_ends_every_subscription(make_bus: BusMaker) -> None:
    bus = make_bus()
    subs = [await bus.subscribe("market."), await bus.subscribe("market.quote.GOOG")]
    await bus.aclose()
    assert all(sub.closed for sub in subs)
    with pytest.raises(RuntimeError):
        await bus.subscribe("market.")


async def test_an_event_from_one_instance_reaches_a_subscriber_of_another(
    make_bus: BusMaker,
) -> None:
    """Two processes' view: on Redis two buses with their own connections; in process the
    same bus (an in-process bus never crosses processes)."""
    publisher, consumer = make_bus(), make_bus()
    sub = await consumer.subscribe("market.bar.")
    sent = [bar("GOOG", 1), bar("MSFT", 2, source="replay")]
    for event in sent:
        assert await publisher.publish(event.topic, event) == 1
    assert [(await next_event(sub)).payload for _ in sent] == sent


@pytest.mark.parametrize("topic", ["", "market.bar.*", "market..bar", "market.bar.", "a b"])
async def test_a_malformed_topic_is_refused(make_bus: BusMaker, topic: str) -> None:
    bus = make_bus()
    with pytest.raises(ValueError, match="topic"):
        await bus.publish(topic, bar("GOOG", 1))


@pytest.mark.parametrize("pattern", ["", "market.*", "market.[ab]", "market..", "."])
async def test_a_malformed_pattern_is_refused(make_bus: BusMaker, pattern: str) -> None:
    bus = make_bus()
    with pytest.raises(ValueError, match="topic"):
        await bus.subscribe(pattern)


async def test_a_full_subscriber_drops_its_oldest_events_and_never_blocks_the_publisher() -> None:
    bus = MemoryEventBus(queue_size=3)
    slow = await bus.subscribe("market.bar.")
    roomy = await bus.subscribe("market.bar.", maxsize=100)
    sent = [bar("GOOG", ts) for ts in range(10)]
    await publish_all(bus, sent)  # nobody reads meanwhile: publishing must not wait
    assert slow.dropped == 7 and len(slow) == 3
    assert [(await next_event(slow)).payload for _ in range(3)] == sent[-3:]
    assert roomy.dropped == 0
    assert [(await next_event(roomy)).payload for _ in sent] == sent
    await bus.aclose()


def test_market_topics() -> None:
    assert bar("GOOG", 1).topic == "market.bar.GOOG.1d" == market_topic("bar", "GOOG", "1d")
    assert quote("BRK.B", 1).topic == "market.quote.BRK.B"
    assert bar("^GSPC", 1, timeframe="15m").topic == "market.bar.^GSPC.15m"


@pytest.mark.parametrize(
    "event",
    [
        bar("GOOG", 1_700_000_000, source="replay"),
        quote("EURUSD=X", 1_700_000_123),
        MarketEvent("bar", "BTC-USD", "1m", 0, 1e-9, 2.5, 1e-9, 1.25, 1e12),
    ],
)
def test_market_events_survive_the_json_round_trip(event: MarketEvent) -> None:
    assert MarketEvent.from_json(event.to_json()) == event
    envelope = Event(event.topic, event)
    assert Event.from_json(envelope.to_json()) == envelope
    assert orjson.loads(envelope.to_json())["type"] == "market"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "trade"}, "kind"),
        ({"source": "guess"}, "source"),
        ({"timeframe": None}, "timeframe"),
        ({"kind": "quote"}, "timeframe"),
        ({"ts": 1.5}, "ts"),
        ({"close": "1"}, "close"),
        ({"symbol": ""}, "symbol"),
    ],
)
def test_a_malformed_market_event_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    raw = {**bar("GOOG", 1).to_dict(), **changes}
    with pytest.raises(ValueError, match=field):
        MarketEvent.from_json(orjson.dumps(raw))


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"[]", "JSON object"),
        (b'{"topic": "market.bar.GOOG.1d", "type": "fill", "payload": {}}', "payload type"),
        (b'{"topic": "market.*", "type": "market", "payload": {}}', "topic"),
        (b'{"topic": "market.bar.GOOG.1d", "type": "market", "payload": []}', "payload"),
        (b"not json", "char 0"),
    ],
)
def test_a_malformed_envelope_is_refused(raw: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Event.from_json(raw)


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)


async def test_the_backend_and_queue_size_follow_the_settings() -> None:
    memory = build_event_bus(settings(redis_url="redis://127.0.0.1:1/0", events_queue_size=7))
    assert isinstance(memory, MemoryEventBus) and memory.queue_size == 7
    redis_bus = build_event_bus(settings(redis_url="redis://127.0.0.1:1/0", events_backend="redis"))
    try:
        assert isinstance(redis_bus, RedisEventBus) and redis_bus.queue_size == 1_000
    finally:
        await redis_bus.aclose()


def test_the_redis_backend_without_a_redis_url_is_refused() -> None:
    with pytest.raises(ConfigError, match="QUANTDESK_REDIS_URL"):
        build_event_bus(settings(events_backend="redis"))


@pytest.mark.redis
async def test_a_redis_subscriber_resubscribes_after_redis_restarts(
    redis_process: RedisProcess,
) -> None:
    """Events published while Redis is down are lost (at-most-once, publish answers 0); once
    it is back the subscription receives again without being recreated."""
    bus = RedisEventBus(redis_process.url, channel_prefix=f"test:{uuid.uuid4().hex}:")
    try:
        sub = await bus.subscribe("market.quote.")
        redis_process.stop()
        try:
            lost = quote("GOOG", 1)
            assert await bus.publish(lost.topic, lost) == 0
            assert bus.publish_errors >= 1
            # Subscribing during the outage answers; the reader keeps trying in the background.
            late = await bus.subscribe("market.quote.GOOG")
        finally:
            redis_process.start()
        back = quote("GOOG", 2)
        await wait_until_reached(lambda: bus.publish(back.topic, back), subscribers=2)
        for subscription in (sub, late):
            got = [(await next_event(subscription)).payload]
            while (more := subscription.get_nowait()) is not None:
                got.append(more.payload)
            assert set(got) == {back}  # the lost one never arrives
    finally:
        await bus.aclose()


@pytest.mark.redis
async def test_an_undecodable_redis_message_is_skipped(redis_process: RedisProcess) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    bus = RedisEventBus(redis_process.url, channel_prefix=prefix)
    raw = redis.asyncio.Redis.from_url(redis_process.url)
    try:
        sub = await bus.subscribe("market.")
        assert await raw.publish(f"{prefix}market.bar.GOOG.1d", b"garbage") == 1
        good = bar("GOOG", 1)
        await bus.publish(good.topic, good)
        assert (await next_event(sub)).payload == good
        assert bus.undecodable == 1
    finally:
        await raw.aclose()
        await bus.aclose()


async def wait_until_reached(publish: Callable[[], Awaitable[int]], *, subscribers: int) -> None:
    """Publish until Redis reports `subscribers` (readers reconnect in the background); each
    subscription may also get some of the earlier attempts."""

    async def loop() -> None:
        # The condition lives in Redis, not in this process: nothing to wait on but a retry.
        while await publish() < subscribers:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    await asyncio.wait_for(loop(), timeout=30)


async def test_the_app_builds_the_event_bus_and_closes_it(tmp_path: Path) -> None:
    app = create_app(make_settings(sqlite_url(tmp_path / "q.db")))
    async with LifespanManager(app):
        bus = app_state(app).events
        assert isinstance(bus, MemoryEventBus)
        sub = await bus.subscribe("market.")
    assert sub.closed
    with pytest.raises(SubscriptionClosed):
        await sub.get()
