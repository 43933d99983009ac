"""ccxt (binance) against a local server speaking Binance's REST format, ccxt's `urls['api']`
pointed at it: markets, klines, tickers, and its errors sorted like every provider's."""

from __future__ import annotations

from typing import Any

import pytest

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.providers.base import BarsQuery, QuoteQuery
from quantdesk.marketdata.providers.ccxt_provider import CcxtProvider, point_urls_at
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    ProviderDataNotFound,
    ProviderSubjectNotFound,
    ProviderTimeout,
    RateLimitedError,
    TemporaryProviderError,
)
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.models import FetchStatus
from tests.support.provider_fakes import FakeServer, Reply, payload
from tests.support.providers import RecordingSleep, fast_settings

KLINES = "/api/v3/klines"
START = 1_704_067_200  # 2024-01-01T00:00:00Z


@pytest.fixture
def binance(server: FakeServer) -> FakeServer:
    server.route("/api/v3/exchangeInfo", Reply(body=payload("binance-exchangeinfo.json")))
    # ccxt also lists USD-M and COIN-M futures markets; this exchange has none.
    server.route("/fapi/v1/exchangeInfo", Reply(body=b'{"timezone":"UTC","symbols":[]}'))
    server.route("/dapi/v1/exchangeInfo", Reply(body=b'{"timezone":"UTC","symbols":[]}'))
    server.route(KLINES, Reply(body=payload("binance-klines-btcusdt-1h.json")))
    server.route("/api/v3/ticker/24hr", Reply(body=payload("binance-ticker-btcusdt.json")))
    return server


def ccxt_settings(server: FakeServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "providers_bars": ["ccxt:binance"],
        "providers_quotes": ["ccxt:binance"],
        "ccxt_api_urls": {"binance": server.url},
    }
    return fast_settings(**{**values, **overrides})


def test_every_api_url_is_pointed_at_the_base_keeping_its_path() -> None:
    urls = {
        "public": "https://api.binance.com/api/v3",
        "nested": {"x": "https://fapi.binance.com/fapi/v1"},
    }
    assert point_urls_at(urls, "http://127.0.0.1:9") == {
        "public": "http://127.0.0.1:9/api/v3",
        "nested": {"x": "http://127.0.0.1:9/fapi/v1"},
    }


async def test_binance_hourly_bars_by_market_id(binance: FakeServer, runtime_factory: Any) -> None:
    runtime = runtime_factory(ccxt_settings(binance))
    answer = await runtime.fetch(
        BarsQuery("BTCUSDT", Timeframe.H1, start=START, end=START + 3 * 3600)
    )
    assert answer.provider == "ccxt:binance"
    bars = answer.value
    assert bars.ts.tolist() == [START + h * 3600 for h in range(4)]
    assert bars.open[0] == 42283.58 and bars.close[-1] == 42330.49 and bars.volume[1] == 1196.37856
    (request,) = binance.hits(KLINES)
    assert request.query["symbol"] == ["BTCUSDT"] and request.query["interval"] == ["1h"]
    assert request.query["startTime"] == [str(START * 1000)]


async def test_a_usd_symbol_maps_to_the_usdt_market_and_a_ticker_is_a_quote(
    binance: FakeServer, runtime_factory: Any
) -> None:
    runtime = runtime_factory(ccxt_settings(binance))
    answer = await runtime.fetch(QuoteQuery("BTCUSD"))
    quote = answer.value
    assert (quote.symbol, quote.price, quote.bid, quote.ask) == (
        "BTCUSD",
        43613.57,
        43613.56,
        43613.57,
    )
    assert quote.volume == 25631.83108 and quote.ts == 1_704_239_999
    assert binance.hits("/api/v3/ticker/24hr")[0].query["symbol"] == ["BTCUSDT"]


async def test_an_unknown_market_is_not_found(binance: FakeServer, runtime_factory: Any) -> None:
    runtime = runtime_factory(ccxt_settings(binance))
    with pytest.raises(ProviderSubjectNotFound):
        await runtime.fetch(BarsQuery("DOGEEUR", Timeframe.H1), provider="ccxt:binance")
    assert binance.hits(KLINES) == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(502, b"<html>502 Bad Gateway</html>", "text/html"), TemporaryProviderError),
        (Reply(500, b'{"code":-1000,"msg":"An unknown error occurred."}'), TemporaryProviderError),
        (
            Reply(429, b'{"code":-1003,"msg":"Too many requests."}', headers={"Retry-After": "7"}),
            RateLimitedError,
        ),
        (Reply(200, b"<html>maintenance</html>", "text/html"), MalformedResponse),
        (Reply(400, b'{"code":-1121,"msg":"Invalid symbol."}'), ProviderDataNotFound),
        (Reply(200, payload("binance-klines-btcusdt-1h.json"), delay=0.3), ProviderTimeout),
    ],
    ids=["502-html", "500-json", "429", "malformed", "bad-symbol", "timeout"],
)
async def test_ccxt_errors_are_sorted_by_what_to_do(
    binance: FakeServer, reply: Reply, error: type[Exception]
) -> None:
    binance.route(KLINES, reply)
    provider = CcxtProvider("binance", timeout_seconds=0.2, api_url=binance.url)
    try:
        with pytest.raises(error) as raised:
            await provider.fetch_bars(BarsQuery("BTC/USDT", Timeframe.H1, start=START))
    finally:
        await provider.aclose()
    if isinstance(raised.value, RateLimitedError):
        assert raised.value.retry_after == 7.0


async def test_a_flaky_exchange_is_retried_then_answers(
    binance: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    binance.route(
        KLINES,
        Reply(503, b"<html>503</html>", "text/html"),
        Reply(429, b'{"code":-1003,"msg":"Too many requests."}', headers={"Retry-After": "1"}),
        Reply(body=payload("binance-klines-btcusdt-1h.json")),
    )
    runtime = runtime_factory(ccxt_settings(binance))
    answer = await runtime.fetch(
        BarsQuery("BTC/USDT", Timeframe.H1, start=START, end=START + 3 * 3600)
    )
    assert len(answer.value) == 4
    assert sleep.waits[1] == 1.0  # the 429's Retry-After
    (record,) = recorder.records
    assert record.status is FetchStatus.SUCCESS and record.retries == 2


async def test_an_unknown_exchange_is_a_configuration_error() -> None:
    from quantdesk.config import ConfigError
    from quantdesk.infra.state import MemoryStateStore
    from quantdesk.marketdata.providers.registry import build_provider_runtime

    with pytest.raises(ConfigError, match="no exchange 'notanexchange'"):
        build_provider_runtime(
            fast_settings(providers_bars=["ccxt:notanexchange"]), MemoryStateStore()
        )
