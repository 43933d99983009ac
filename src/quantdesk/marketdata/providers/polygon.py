"""US equities from Polygon.io's REST API: aggregates (bars) and snapshot quotes.

Bars: `GET /v2/aggs/ticker/{T}/range/{multiplier}/{timespan}/{from}/{to}` answers
`{"status": "OK", "results": [{"t": ms, "o", "h", "l", "c", "v", ...}], "next_url": ...}`.
Quotes: `GET /v2/snapshot/locale/us/markets/stocks/tickers/{T}` answers
`{"ticker": {"lastTrade": {"p", "t"}, "lastQuote": {"p" (bid), "P" (ask)}, "day": {"v"}}}`.
Fundamentals: `GET /vX/reference/financials?ticker=T&sort=period_of_report_date&order=desc&limit=1`
answers `{"status": "OK", "results": [{"end_date", "fiscal_period", "financials":
{"income_statement": {"revenues": {"value", "unit", "label", "order"}, ...}, "balance_sheet": ...,
"cash_flow_statement": ..., "comprehensive_income": ...}}]}`; the latest filing's line items
become one flat `values` dict (`revenues`, `assets`, `diluted_earnings_per_share`, ...).
The key goes in an `Authorization: Bearer` header (never in a URL), and `next_url` is only
followed on the configured host, so the key is never sent anywhere else.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import SecretStr

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.providers.base import (
    BarsQuery,
    DataKind,
    Fundamentals,
    FundamentalsQuery,
    NewsItem,
    NewsQuery,
    Quote,
    QuoteQuery,
)
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    PermanentProviderError,
    ProviderDataNotFound,
    ProviderNotConfigured,
)
from quantdesk.marketdata.providers.http import HttpClient
from quantdesk.marketdata.providers.polygon_news import NEWS_PATH, news_params, parse_news

POLYGON_BASE_URL = "https://api.polygon.io"
MAX_PAGES = 20
DEFAULT_BARS = 1_000
TIMESPANS: dict[Timeframe, tuple[int, str]] = {
    Timeframe.M1: (1, "minute"),
    Timeframe.M5: (5, "minute"),
    Timeframe.M15: (15, "minute"),
    Timeframe.M30: (30, "minute"),
    Timeframe.H1: (1, "hour"),
    Timeframe.H4: (4, "hour"),
    Timeframe.D1: (1, "day"),
    Timeframe.W1: (1, "week"),
    Timeframe.MN1: (1, "month"),
}


def parse_aggregates(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    if not isinstance(body, dict) or body.get("status") not in ("OK", "DELAYED"):
        detail = body.get("error") or body.get("message") if isinstance(body, dict) else None
        raise MalformedResponse(f"polygon: unexpected aggregates answer ({detail or 'no status'})")
    results = body.get("results", [])
    if not isinstance(results, list):
        raise MalformedResponse("polygon: 'results' is not a list")
    next_url = body.get("next_url")
    return results, next_url if isinstance(next_url, str) else None


def bars_from_results(results: list[dict[str, Any]]) -> BarFrame:
    try:
        columns = [
            [int(item["t"]) // 1000 for item in results],
            *([float(item.get(key, np.nan)) for item in results] for key in "ohlc"),
            [float(item.get("v", 0.0)) for item in results],
        ]
    except (KeyError, TypeError, ValueError):
        raise MalformedResponse(
            "polygon: an aggregate lacks a numeric 't'/'o'/'h'/'l'/'c'"
        ) from None
    return BarFrame.from_columns(columns)


class PolygonProvider:
    def __init__(
        self,
        http: HttpClient,
        *,
        api_key: SecretStr | None,
        base_url: str = POLYGON_BASE_URL,
        name: str = "polygon",
    ) -> None:
        self.name = name
        self.kinds = frozenset(
            {DataKind.BARS, DataKind.QUOTES, DataKind.FUNDAMENTALS, DataKind.NEWS}
        )
        self.http = http
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")

    def _headers(self) -> dict[str, str]:
        if self.api_key is None or not self.api_key.get_secret_value():
            raise ProviderNotConfigured("polygon: set QUANTDESK_POLYGON_API_KEY")
        return {"Authorization": f"Bearer {self.api_key.get_secret_value()}"}

    async def fetch_bars(self, query: BarsQuery) -> BarFrame:
        headers = self._headers()
        multiplier, timespan = TIMESPANS[query.timeframe]
        end = query.end if query.end is not None else int(time.time())
        # Without a start, reach back far enough for `limit` bars across closed days.
        span = (query.limit or DEFAULT_BARS) * query.timeframe.seconds * 2
        start = query.start if query.start is not None else end - span
        url: str | None = (
            f"{self.base_url}/v2/aggs/ticker/{query.symbol.upper()}/range/{multiplier}/"
            f"{timespan}/{start * 1000}/{end * 1000}"
        )
        params: dict[str, str] | None = {"adjusted": "true", "sort": "asc", "limit": "50000"}
        results: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            body = await self.http.get_json(url, params=params, headers=headers)
            page, next_url = parse_aggregates(body)
            results.extend(page)
            url, params = (next_url, None) if self._same_host(next_url) else (None, None)
        return bars_from_results(results)

    def _same_host(self, url: str | None) -> bool:
        return url is not None and url.startswith(self.base_url + "/")

    async def fetch_quote(self, query: QuoteQuery) -> Quote:
        symbol = query.symbol.upper()
        body = await self.http.get_json(
            f"{self.base_url}/v2/snapshot/locale/us/markets/stocks/tickers/{symbol}",
            headers=self._headers(),
        )
        ticker = body.get("ticker") if isinstance(body, dict) else None
        if not isinstance(ticker, dict):
            raise MalformedResponse("polygon: snapshot without 'ticker'")
        trade = ticker.get("lastTrade") or {}
        quote = ticker.get("lastQuote") or {}
        day = ticker.get("day") or {}
        raw_price: Any = trade.get("p") or day.get("c")
        raw_stamp: Any = trade.get("t") or ticker.get("updated")
        try:
            price = float(raw_price)
            stamp = int(raw_stamp)
        except (TypeError, ValueError):
            raise PermanentProviderError("polygon: snapshot has no last trade price") from None
        return Quote(
            symbol=symbol,
            price=price,
            ts=stamp // 1_000_000_000 if stamp > 10**14 else stamp // 1000,  # ns or ms
            bid=_optional(quote.get("p")),
            ask=_optional(quote.get("P")),
            volume=_optional(day.get("v")),
        )

    async def fetch_fundamentals(self, query: FundamentalsQuery) -> Fundamentals:
        symbol = query.symbol.upper()
        body = await self.http.get_json(
            f"{self.base_url}/vX/reference/financials",
            params={
                "ticker": symbol,
                "sort": "period_of_report_date",
                "order": "desc",
                "limit": "1",
            },
            headers=self._headers(),
        )
        return fundamentals_from_financials(symbol, body)

    async def fetch_news(self, query: NewsQuery) -> list[NewsItem]:
        """The latest news (of `query.symbol` when given), newest first (polygon_news.py)."""
        body = await self.http.get_json(
            self.base_url + NEWS_PATH, params=news_params(query), headers=self._headers()
        )
        return parse_news(body)[: query.limit]

    async def aclose(self) -> None:
        return None


def _optional(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


# The statements of a filing, in the order their line items are taken (a name that appears in
# two statements keeps its first value).
STATEMENTS = ("income_statement", "balance_sheet", "cash_flow_statement", "comprehensive_income")
FILING_FIELDS = ("fiscal_period", "fiscal_year", "start_date", "end_date", "filing_date")


def fundamentals_from_financials(symbol: str, body: Any) -> Fundamentals:
    """The latest filing of a `/vX/reference/financials` answer as flat values; `as_of` is the
    end of the reported period (a restated filing for the same period replaces it)."""
    if not isinstance(body, dict) or body.get("status") not in ("OK", "DELAYED"):
        detail = body.get("error") or body.get("message") if isinstance(body, dict) else None
        raise MalformedResponse(f"polygon: unexpected financials answer ({detail or 'no status'})")
    results = body.get("results")
    if not isinstance(results, list):
        raise MalformedResponse("polygon: financials 'results' is not a list")
    if not results:
        raise ProviderDataNotFound(f"polygon: no financials for {symbol}")
    filing = results[0]
    statements = filing.get("financials") if isinstance(filing, dict) else None
    if not isinstance(statements, dict):
        raise MalformedResponse("polygon: a financials result without 'financials'")
    try:
        end = datetime.strptime(str(filing["end_date"]), "%Y-%m-%d").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        raise MalformedResponse("polygon: a financials result without a valid end_date") from None
    values: dict[str, float | str | None] = {
        key: str(filing[key]) for key in FILING_FIELDS if filing.get(key) is not None
    }
    for statement in STATEMENTS:
        items = statements.get(statement) or {}
        if not isinstance(items, dict):
            raise MalformedResponse(f"polygon: financials.{statement} is not an object")
        for name, item in items.items():
            if name in values or not isinstance(item, dict):
                continue
            values[name] = _optional(item.get("value"))
    return Fundamentals(symbol=symbol, as_of=int(end.timestamp()), values=values)
