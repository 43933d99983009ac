"""`news.fetch` through the in-process runner against a local server speaking RSS 2.0 and
Polygon's news JSON, plus an Atom file for the newsfile provider: every provider of the chain
is asked, items are stored once, reruns add nothing; unconfigured runs are skipped."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.marketdata.providers.base import NewsQuery
from quantdesk.marketdata.providers.polygon import PolygonProvider
from quantdesk.marketdata.providers.rss import parse_feed
from quantdesk.models import JobStatus, NewsArticle
from tests.support.factories import create_instrument
from tests.support.jobs import job_runs
from tests.support.provider_fakes import FakeServer, Reply, payload
from tests.support.reference_data import POLYGON_KEY

RSS = "application/rss+xml"
ATOM_FILE = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Desk notes</title>
  <id>urn:example:desk</id>
  <updated>2024-01-06T09:00:00Z</updated>
  <entry>
    <title>Bitcoin &lt;b&gt;slumps&lt;/b&gt; over the weekend</title>
    <id>urn:example:desk:1</id>
    <link href="https://desk.example.com/notes/1"/>
    <updated>2024-01-06T09:00:00Z</updated>
    <category term="CRYPTO:BTCUSD"/>
    <summary type="html">&lt;p&gt;Prices fell.&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</summary>
  </entry>
</feed>
"""


async def _stored(db: Database) -> list[NewsArticle]:
    async with db.session() as session:
        return list(await session.scalars(select(NewsArticle).order_by(NewsArticle.id)))


async def test_news_job_asks_every_provider_and_stores_each_story_once(
    runner: InProcessRunner, jobs_db: Database, server: FakeServer, files_dir: Path
) -> None:
    await create_instrument(jobs_db, "GOOG", name="Alphabet Inc. (Google) Class C")
    await create_instrument(jobs_db, "AAPL", name="Apple Inc.")
    server.route("/markets/rss", Reply(body=payload("markets-rss2.xml"), content_type=RSS))
    server.route("/v2/reference/news", Reply(body=payload("polygon-news-goog.json")))
    (files_dir / "news" / "desk.atom").write_bytes(ATOM_FILE)

    for _ in range(2):
        await runner.enqueue("news.fetch")
        await runner.drain()

    runs = await job_runs(jobs_db, "news.fetch")
    assert [run.status for run in runs] == [JobStatus.SUCCEEDED] * 2
    stored = await _stored(jobs_db)
    providers = sorted({item.provider for item in stored})
    assert providers == ["newsfile:desk.atom", "polygon", "rss"]
    assert len(stored) == len({item.title_key for item in stored})
    first, second = (run.result or {} for run in runs)
    assert first["rows_written"] == len(stored) and second["rows_written"] == 0
    # Polygon was asked for the latest news and for GOOG's, with the key in a header only.
    hits = server.hits("/v2/reference/news")
    assert [hit.query.get("ticker") for hit in hits][:2] == [None, ["GOOG"]]
    assert all(hit.headers.get("Authorization") == f"Bearer {POLYGON_KEY}" for hit in hits)
    beat = next(item for item in stored if item.provider == "polygon" and "beats" in item.title)
    assert beat.symbols == ["GOOG", "GOOGL"] and beat.source == "Example Wire"
    assert beat.sentiment_label == "positive"
    note = next(item for item in stored if item.provider == "newsfile:desk.atom")
    assert note.title == "Bitcoin slumps over the weekend" and note.summary == "Prices fell."
    assert note.symbols == ["BTCUSD"] and note.source == "Desk notes"
    apple = next(item for item in stored if item.provider == "rss" and "AAPL" in item.symbols)
    assert apple.source == "wire"


async def test_news_job_without_providers_is_skipped_saying_how(
    jobs_db: Database, runner: InProcessRunner
) -> None:
    runner.settings.providers_news.clear()
    await runner.enqueue("news.fetch")
    await runner.drain()
    (run,) = await job_runs(jobs_db, "news.fetch")
    assert run.status is JobStatus.SKIPPED
    assert "QUANTDESK_PROVIDERS_NEWS" in str((run.result or {}).get("reason"))


def test_rss_category_tickers_become_provider_symbols() -> None:
    feed = b"""<rss version="2.0"><channel><title>t</title>
      <item><title>A</title><link>https://x.example/a</link>
        <category domain="ticker">goog</category><category>Technology</category>
        <category>NYSE:F</category></item></channel></rss>"""
    (item,) = parse_feed(feed, source=None)
    assert item.symbols == ("GOOG", "F") and item.source == "t"


async def test_polygon_news_parses_the_real_format(server: FakeServer) -> None:
    from quantdesk.marketdata.providers.http import HttpClient

    server.route("/v2/reference/news", Reply(body=payload("polygon-news-goog.json")))
    http = HttpClient(timeout_seconds=2.0)
    try:
        provider = PolygonProvider(http, api_key=SecretStr(POLYGON_KEY), base_url=server.url)
        items = await provider.fetch_news(NewsQuery(symbol="goog", limit=1))
    finally:
        await http.aclose()
    (item,) = items
    assert item.published_at == 1_704_489_000 and item.url and item.symbols == ("GOOG", "GOOGL")
    (hit,) = server.hits("/v2/reference/news")
    assert hit.query["ticker"] == ["GOOG"] and hit.query["order"] == ["desc"]
