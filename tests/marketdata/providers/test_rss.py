"""News from an RSS 2.0 and an Atom feed served locally, through feedparser."""

from __future__ import annotations

from typing import Any

import pytest

from quantdesk.marketdata.providers.base import NewsQuery
from quantdesk.marketdata.providers.errors import MalformedResponse
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.marketdata.providers.rss import parse_feed
from tests.support.provider_fakes import FakeServer, Reply, payload
from tests.support.providers import fast_settings

RSS = "application/rss+xml"
ATOM = "application/atom+xml"


def news_settings(server: FakeServer) -> Any:
    return fast_settings(
        providers_news=["rss"],
        rss_feeds={"wire": server.url + "/markets/rss", "cb": server.url + "/press/atom.xml"},
    )


@pytest.fixture
def feeds(server: FakeServer) -> FakeServer:
    server.route("/markets/rss", Reply(body=payload("markets-rss2.xml"), content_type=RSS))
    server.route("/press/atom.xml", Reply(body=payload("central-bank-atom.xml"), content_type=ATOM))
    return server


async def test_rss_and_atom_items_merge_newest_first(
    feeds: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder
) -> None:
    runtime = runtime_factory(news_settings(feeds))
    answer = await runtime.fetch(NewsQuery())
    items = answer.value
    assert [item.source for item in items] == ["wire", "wire", "cb", "cb"]
    apple = items[0]
    assert apple.id == "mw-2024-0105-001"
    assert apple.url == "https://news.example.com/markets/2024/01/05/apple-slips"
    assert apple.published_at == 1_704_486_600  # Fri, 05 Jan 2024 20:30:00 GMT
    assert apple.summary == "Shares of AAPL fell 0.4% on Friday."  # tags stripped
    decision = items[2]
    assert decision.title.startswith("Monetary policy decision")
    assert decision.published_at == 1_704_376_800  # 2024-01-04T14:00:00Z
    assert items[3].published_at == 1_704_186_000  # no <published>: its <updated>
    (record,) = recorder.records
    assert sorted(r.reason for r in record.rejected) == [
        "duplicate news item",
        "news item without a title",
    ]


async def test_news_for_a_symbol_and_one_feed(feeds: FakeServer, runtime_factory: Any) -> None:
    runtime = runtime_factory(news_settings(feeds))
    answer = await runtime.fetch(NewsQuery(symbol="AAPL"))
    assert [item.id for item in answer.value] == ["mw-2024-0105-001"]
    only_cb = await runtime.fetch(NewsQuery(feed="cb", limit=1))
    assert [item.source for item in only_cb.value] == ["cb"]
    assert len(feeds.hits("/markets/rss")) == 1  # the feed="cb" query left it alone


async def test_one_broken_feed_does_not_hide_the_others(
    feeds: FakeServer, runtime_factory: Any
) -> None:
    feeds.route("/press/atom.xml", Reply(500, b"<html>error</html>", "text/html"))
    runtime = runtime_factory(news_settings(feeds))
    answer = await runtime.fetch(NewsQuery())
    assert {item.source for item in answer.value} == {"wire"}


def test_a_body_that_is_not_a_feed_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match="not a readable feed"):
        parse_feed(b"\x00\x01{not a feed at all", source="wire")
