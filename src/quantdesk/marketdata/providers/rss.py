"""News from RSS 2.0 and Atom feeds (feedparser), fetched with the providers' HttpClient.

Feeds are configured by name (`rss_feeds` setting). The bytes are fetched by our HTTP client,
so timeouts, retries, 429s and the budget apply as for every provider, then handed to
feedparser, which never touches the network itself here. A feed feedparser cannot read at all
(`bozo` with no entries) is a malformed response. Summaries are reduced to plain text.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import feedparser

from quantdesk.marketdata.providers.base import DataKind, NewsItem, NewsQuery
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    ProviderDataNotFound,
    ProviderError,
    ProviderNotConfigured,
)
from quantdesk.marketdata.providers.http import HttpClient

_TAGS = re.compile(r"<[^>]+>")
MAX_SUMMARY = 1_000


def _plain(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(_TAGS.sub(" ", text).split())[:MAX_SUMMARY] or None


def _published(entry: Mapping[str, Any]) -> int | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return int(calendar.timegm(parsed))  # feedparser normalizes to UTC struct_time
    return None


_TICKER = re.compile(r"^(?:[A-Z]{1,10}:)?([A-Z0-9][A-Z0-9.=^-]{0,31})$")


def _tagged_symbols(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """Tickers the feed tagged the item with: `<category domain="ticker">GOOG</category>`
    (RSS) / `<category scheme="...symbol..." term="GOOG"/>` (Atom), or an exchange-qualified
    term such as `NASDAQ:GOOG`. Plain topic categories ("Technology") are not symbols."""
    found: list[str] = []
    for tag in entry.get("tags") or []:
        term = str(tag.get("term") or "").strip()
        scheme = str(tag.get("scheme") or "").lower()
        qualified = ":" in term
        if not term or not (qualified or "ticker" in scheme or "symbol" in scheme):
            continue
        match = _TICKER.fullmatch(term.upper())
        if match:
            found.append(match.group(1))
    return tuple(dict.fromkeys(found))


def parse_feed(body: bytes, *, source: str | None) -> list[NewsItem]:
    """Items of an RSS 2.0 or Atom document; `source` None names them after the feed's title."""
    parsed = feedparser.parse(body)
    entries = list(parsed.get("entries", []))
    if parsed.get("bozo") and not entries:
        reason = type(parsed.get("bozo_exception")).__name__
        raise MalformedResponse(f"rss {source or 'file'}: not a readable feed ({reason})")
    if source is None:
        source = " ".join(str(parsed.get("feed", {}).get("title") or "rss").split())
    items: list[NewsItem] = []
    for entry in entries:
        link = entry.get("link")
        ident = entry.get("id") or link
        if not ident:
            # No id and no link: identify the item by its content, so repeats still dedupe.
            text = f"{entry.get('title', '')}|{entry.get('summary', '')}"
            ident = hashlib.sha256(text.encode()).hexdigest()[:32]
        items.append(
            NewsItem(
                id=str(ident),
                title=" ".join(str(entry.get("title", "")).split()),
                url=str(link) if link else None,
                published_at=_published(entry),
                source=source,
                summary=_plain(entry.get("summary")),
                symbols=_tagged_symbols(entry),
            )
        )
    return items


def _mentions(item: NewsItem, words: list[str]) -> bool:
    text = f"{item.title} {item.summary or ''}".lower()
    return all(re.search(rf"\b{re.escape(word.lower())}\b", text) for word in words)


class RssProvider:
    def __init__(self, http: HttpClient, *, feeds: Mapping[str, str], name: str = "rss") -> None:
        self.name = name
        self.kinds = frozenset({DataKind.NEWS})
        self.http = http
        self.feeds = dict(feeds)

    async def _feed(self, feed: str, url: str) -> list[NewsItem]:
        response = await self.http.get(url)
        # feedparser is pure Python and may take a while on a big feed: off the event loop.
        return await asyncio.to_thread(parse_feed, response.content, source=feed)

    async def fetch_news(self, query: NewsQuery) -> list[NewsItem]:
        if not self.feeds:
            raise ProviderNotConfigured("rss: no feeds configured (QUANTDESK_RSS_FEEDS)")
        if query.feed is not None and query.feed not in self.feeds:
            raise ProviderDataNotFound(f"rss: no feed named {query.feed!r}")
        names = [query.feed] if query.feed is not None else list(self.feeds)
        results = await asyncio.gather(
            *(self._feed(name, self.feeds[name]) for name in names), return_exceptions=True
        )
        items: list[NewsItem] = []
        errors: list[ProviderError] = []
        for result in results:
            if isinstance(result, ProviderError):
                errors.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                items.extend(result)
        if errors and not items:
            raise errors[0]  # every feed failed: the first error decides retry or not
        words = [*query.keywords, *([query.symbol] if query.symbol else [])]
        if words:
            items = [item for item in items if _mentions(item, words)]
        items.sort(key=lambda item: item.published_at or 0, reverse=True)
        return items[: query.limit]

    async def aclose(self) -> None:
        return None
