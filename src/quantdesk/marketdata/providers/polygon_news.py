"""Polygon.io news: `GET /v2/reference/news?ticker=T&order=desc&sort=published_utc&limit=N`
answers `{"status": "OK", "results": [{"id", "publisher": {"name", ...}, "title", "author",
"published_utc": "2024-01-05T20:30:00Z", "article_url", "tickers": ["AAPL", ...],
"description", "keywords", "insights": [...]}], "next_url"}`. Without `ticker`: the latest
market news. Polygon's own per-ticker `insights` are not kept (our scorer labels every item
the same way, whichever provider it came from)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quantdesk.marketdata.providers.base import NewsItem, NewsQuery
from quantdesk.marketdata.providers.errors import MalformedResponse

NEWS_PATH = "/v2/reference/news"
MAX_LIMIT = 1_000


def news_params(query: NewsQuery) -> dict[str, str]:
    params = {
        "order": "desc",
        "sort": "published_utc",
        "limit": str(max(1, min(query.limit, MAX_LIMIT))),
    }
    if query.symbol:
        params["ticker"] = query.symbol.upper()
    return params


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def parse_news(body: Any) -> list[NewsItem]:
    if not isinstance(body, dict) or body.get("status") not in ("OK", "DELAYED"):
        detail = body.get("error") or body.get("message") if isinstance(body, dict) else None
        raise MalformedResponse(f"polygon: unexpected news answer ({detail or 'no status'})")
    results = body.get("results", [])
    if not isinstance(results, list):
        raise MalformedResponse("polygon: news 'results' is not a list")
    items: list[NewsItem] = []
    for result in results:
        if not isinstance(result, dict):
            continue
        publisher = result.get("publisher")
        source = publisher.get("name") if isinstance(publisher, dict) else None
        tickers = result.get("tickers")
        url = result.get("article_url")
        items.append(
            NewsItem(
                id=str(result.get("id") or url or ""),
                title=" ".join(str(result.get("title") or "").split()),
                url=str(url) if url else None,
                published_at=_epoch(result.get("published_utc")),
                source=str(source or "polygon"),
                summary=str(result["description"]) if result.get("description") else None,
                symbols=tuple(
                    str(ticker).upper()
                    for ticker in (tickers if isinstance(tickers, list) else [])
                    if isinstance(ticker, str) and ticker
                ),
            )
        )
    return items
