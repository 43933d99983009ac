"""Any ccxt exchange (chain entry `ccxt:<exchange id>`): OHLCV bars and tickers.

ccxt's own throttle is off: the provider budget (resilience.py) spaces requests instead, and
is shared across processes. `api_url` replaces the scheme and host of every URL in
`exchange.urls['api']` (keeping each path), which points an exchange at a proxy or, in tests,
at a local server speaking the exchange's format.

Symbols: a unified ccxt symbol (`BTC/USDT`) is used as is; otherwise the exchange's market id
(`BTCUSDT`), and for a `...USD` symbol with no such market, its `...USDT` market.
ccxt errors are sorted like every other provider's: timeouts and network errors are
temporary, DDoS protection / rate-limit errors are rate limits (with the response's
Retry-After), a bad symbol is "not found", any other exchange error is permanent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async
import orjson
from ccxt.base import errors as ccxt_errors

from quantdesk.marketdata.frames import BarFrame
from quantdesk.marketdata.providers.base import (
    BarsQuery,
    DataKind,
    Quote,
    QuoteQuery,
    empty_bars,
)
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    PermanentProviderError,
    ProviderDataNotFound,
    ProviderNotConfigured,
    ProviderTimeout,
    RateLimitedError,
    TemporaryProviderError,
)
from quantdesk.marketdata.providers.http import parse_retry_after

T = TypeVar("T")
PAGE_LIMIT = 1_000
MAX_PAGES = 50


def point_urls_at(urls: Any, base_url: str) -> Any:
    """The same URL tree with every URL's scheme and host replaced by `base_url`."""
    if isinstance(urls, dict):
        return {key: point_urls_at(value, base_url) for key, value in urls.items()}
    if isinstance(urls, str) and urls.startswith(("http://", "https://")):
        parts = urlsplit(urls)
        return base_url.rstrip("/") + parts.path
    return urls


class CcxtProvider:
    def __init__(
        self, exchange_id: str, *, timeout_seconds: float, api_url: str | None = None
    ) -> None:
        exchange_class = getattr(ccxt_async, exchange_id, None)
        if exchange_id not in ccxt_async.exchanges or exchange_class is None:
            raise ProviderNotConfigured(f"ccxt has no exchange {exchange_id!r}")
        self.name = f"ccxt:{exchange_id}"
        self.kinds = frozenset({DataKind.BARS, DataKind.QUOTES})
        self.exchange: Any = exchange_class(
            {"enableRateLimit": False, "timeout": int(timeout_seconds * 1000)}
        )
        if api_url:
            self.exchange.urls["api"] = point_urls_at(self.exchange.urls["api"], api_url)
        # ccxt passes a 2xx body that is not JSON through as text (a maintenance page turns
        # into rows of None); refuse it where the body is still at hand.
        self.exchange.on_rest_response = self._check_body

    def _check_body(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        response_headers: Any,
        response_body: str,
        request_headers: Any,
        request_body: Any,
    ) -> str:
        """ccxt's `on_rest_response` hook, with its signature."""
        body = (response_body or "").strip()
        if 200 <= code < 300 and body:
            try:
                orjson.loads(body)
            except orjson.JSONDecodeError:
                raise ccxt_errors.BadResponse(f"{self.name}: the body is not JSON") from None
        return body

    async def _guard(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except ccxt_errors.RequestTimeout:
            raise ProviderTimeout(f"{self.name}: request timed out") from None
        except (ccxt_errors.RateLimitExceeded, ccxt_errors.DDoSProtection) as exc:
            headers = getattr(self.exchange, "last_response_headers", None) or {}
            retry_after = parse_retry_after(
                next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
            )
            raise RateLimitedError(
                f"{self.name}: rate limited ({type(exc).__name__})", retry_after=retry_after
            ) from None
        except ccxt_errors.BadResponse:
            raise MalformedResponse(f"{self.name}: the response is not JSON") from None
        except ccxt_errors.BadSymbol:
            raise ProviderDataNotFound(f"{self.name}: unknown symbol") from None
        except ccxt_errors.OperationFailed as exc:  # NetworkError, ExchangeNotAvailable, ...
            raise TemporaryProviderError(f"{self.name}: {type(exc).__name__}") from None
        except ccxt_errors.BaseError as exc:
            raise PermanentProviderError(f"{self.name}: {type(exc).__name__}") from None
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            # ccxt hands a non-JSON body through unparsed; reading it then fails.
            raise MalformedResponse(
                f"{self.name}: unexpected response shape ({type(exc).__name__})"
            ) from None

    async def _symbol(self, symbol: str) -> str:
        markets: dict[str, Any] = await self._guard(self.exchange.load_markets())
        if not markets:
            raise MalformedResponse(f"{self.name}: the exchange listed no markets")
        if symbol in markets:
            return symbol
        by_id: dict[str, list[dict[str, Any]]] = self.exchange.markets_by_id or {}
        for candidate in (symbol, symbol.upper(), symbol.upper() + "T"):
            if candidate == symbol.upper() + "T" and not symbol.upper().endswith("USD"):
                continue
            found = by_id.get(candidate)
            if found:
                return str(found[0]["symbol"])
        raise ProviderDataNotFound(f"{self.name}: no market {symbol!r}")

    async def fetch_bars(self, query: BarsQuery) -> BarFrame:
        market = await self._symbol(query.symbol)
        timeframe = query.timeframe.value
        if timeframe not in (self.exchange.timeframes or {}):
            raise ProviderDataNotFound(f"{self.name}: no {timeframe} bars")
        step_ms = query.timeframe.seconds * 1000
        end_ms = query.end * 1000 if query.end is not None else None
        if query.start is not None:
            since: int | None = query.start * 1000
        elif end_ms is not None:
            since = end_ms - (query.limit or PAGE_LIMIT) * step_ms
        else:
            since = None  # the exchange's latest bars
        rows: list[list[Any]] = []
        for _ in range(MAX_PAGES):
            page_limit = min(PAGE_LIMIT, query.limit or PAGE_LIMIT)
            page: list[list[Any]] = await self._guard(
                self.exchange.fetch_ohlcv(market, timeframe, since=since, limit=page_limit)
            )
            if not isinstance(page, list):
                raise MalformedResponse(f"{self.name}: OHLCV is not a list")
            rows.extend(page)
            last = int(page[-1][0]) if page else None
            if since is None or last is None or len(page) < page_limit:
                break
            if end_ms is not None and last >= end_ms:
                break
            if query.start is None or (query.limit is not None and len(rows) >= query.limit):
                break
            since = last + 1
        if not rows:
            return empty_bars()
        try:
            frame = BarFrame.from_columns(
                (
                    [int(row[0]) // 1000 for row in rows],
                    *(
                        [float("nan") if row[i] is None else float(row[i]) for row in rows]
                        for i in range(1, 5)
                    ),
                    [0.0 if row[5] is None else float(row[5]) for row in rows],
                )
            )
        except (TypeError, ValueError, IndexError):
            raise MalformedResponse(f"{self.name}: OHLCV rows are not numbers") from None
        if end_ms is not None:
            frame = frame.select(frame.ts <= end_ms // 1000)
        return frame

    async def fetch_quote(self, query: QuoteQuery) -> Quote:
        market = await self._symbol(query.symbol)
        ticker: dict[str, Any] = await self._guard(self.exchange.fetch_ticker(market))
        price = ticker.get("last") or ticker.get("close")
        if price is None:
            raise MalformedResponse(f"{self.name}: ticker without a last price")
        stamp = ticker.get("timestamp")
        return Quote(
            symbol=query.symbol,
            price=float(price),
            ts=int(stamp) // 1000 if stamp else int(time.time()),
            bid=None if ticker.get("bid") is None else float(ticker["bid"]),
            ask=None if ticker.get("ask") is None else float(ticker["ask"]),
            volume=None if ticker.get("baseVolume") is None else float(ticker["baseVolume"]),
        )

    async def aclose(self) -> None:
        await self.exchange.close()
