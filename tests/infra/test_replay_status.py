"""ReplayStatus: the payload a replay publishes on `market.replay.<SYMBOL>` when it starts and
stops, validated on the way in and decoded from the wire like MarketEvent."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from quantdesk.infra.events import Event, MemoryEventBus, ReplayStatus, replay_topic
from tests.support.events import next_event


def status(**overrides: Any) -> ReplayStatus:
    values: dict[str, Any] = {
        "symbol": "GOOG",
        "replay_id": "r1",
        "state": "started",
        "timeframe": "1d",
        "start_ts": 1_700_000_000,
    }
    values.update(overrides)
    return ReplayStatus(**values)


def test_topic_and_wire_round_trip() -> None:
    started = status()
    assert started.topic == replay_topic("GOOG") == "market.replay.GOOG"
    assert replay_topic("BRK.B") == "market.replay.BRK.B"
    wire = Event(started.topic, started).to_json()
    assert orjson.loads(wire)["type"] == "replay"
    assert Event.from_json(wire) == Event("market.replay.GOOG", started)
    assert (
        ReplayStatus.from_dict({**started.to_dict(), "start_ts": 1.7e9}).start_ts == 1_700_000_000
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state", "running"),
        ("symbol", ""),
        ("replay_id", None),
        ("timeframe", 5),
        ("start_ts", "2020-01-01"),
        ("start_ts", True),
    ],
)
def test_invalid_fields_are_named(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        ReplayStatus.from_dict({**status().to_dict(), field: value})
    with pytest.raises(ValueError, match=field):
        status(**{field: value})


def test_a_replay_topic_rejects_a_bad_symbol() -> None:
    with pytest.raises(ValueError, match="topic"):
        replay_topic("GO*G")


async def test_published_to_a_replay_subscriber() -> None:
    bus = MemoryEventBus()
    async with await bus.subscribe("market.replay.") as subscription:
        stopped = status(state="stopped")
        assert await bus.publish(stopped.topic, stopped) == 1
        assert (await next_event(subscription)).payload == stopped
    await bus.aclose()
