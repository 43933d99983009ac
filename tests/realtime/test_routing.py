"""Stream names and bus topics: a stream named in `since_seq` maps back to the topic its
events are published (and, with Redis, numbered and logged) on."""

from __future__ import annotations

import pytest

from quantdesk.infra.events import Event, MarketEvent
from quantdesk.realtime.routing import route, stream_route, stream_topic
from tests.support.realtime import order, quote


def bar(symbol: str, timeframe: str) -> MarketEvent:
    return MarketEvent("bar", symbol, timeframe, 1, 1.0, 1.0, 1.0, 1.0, 1.0)


EVENTS = [
    Event("market.quote.BRK.B", quote("BRK.B")),
    Event("market.bar.BTC/USDT.1h", bar("BTC/USDT", "1h")),
    Event("market.bar.BRK.B.1d", bar("BRK.B", "1d")),
    *(
        Event(topic, order("acc-1"))  # routing of these goes by the topic alone
        for topic in (
            "signals.GOOG",
            "news.GOOG",
            "orders.acc-1",
            "alerts.7",
            "backtests.7",
            "exports.7",
            "jobs.failed",
        )
    ),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.topic)
def test_every_stream_maps_back_to_its_topic(event: Event) -> None:
    found = route(event)
    assert found is not None
    assert stream_route(found.stream) == found
    assert stream_topic(found.stream) == event.topic


@pytest.mark.parametrize("name", ["quotes", "nope:GOOG", "bars:GOOG", "jobs:other:7", "jobs:x"])
def test_a_name_that_is_no_stream_has_no_route(name: str) -> None:
    assert stream_route(name) is None
    with pytest.raises(ValueError, match="not a stream"):
        stream_topic(name)


def test_a_stream_whose_topic_could_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="not an event topic"):
        stream_topic("quotes:GO OG")
