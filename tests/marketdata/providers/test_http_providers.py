"""ECB, the HTML rate-table scraper, FRED and Polygon against a local server speaking each
service's real format, including 5xx, 429 with Retry-After, timeouts and malformed bodies."""

from __future__ import annotations

from typing import Any

import pytest

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.providers.base import BarsQuery, FxRatesQuery, QuoteQuery, SeriesQuery
from quantdesk.marketdata.providers.errors import NoProviderAnswered, ProviderSubjectNotFound
from quantdesk.marketdata.providers.recorder import MemoryFetchRecorder
from quantdesk.marketdata.providers.registry import ProviderRuntime
from quantdesk.models import FetchStatus
from tests.support.provider_fakes import FakeServer, Reply, payload
from tests.support.providers import RecordingSleep, fast_settings
from tests.support.secrets_watch import remember

ECB_PATH = "/stats/eurofxref/eurofxref-daily.xml"
BAM_PATH = "/en/Markets/Reference-rate"
FRED_PATH = "/fred/series/observations"
FRED_KEY = "0123456789abcdef0123456789abcdef"
POLYGON_KEY = "pk_test_Zx81mQ2LrV7nT4"
remember(FRED_KEY, POLYGON_KEY)
XML = "text/xml"
DAY_2024_01_05 = 1_704_412_800


def fx_settings(server: FakeServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "providers_fx_rates": ["ecb", "html:bam"],
        "ecb_url": server.url + ECB_PATH,
        "html_rate_tables": {
            "bam": {
                "url": server.url + BAM_PATH,
                "quote_currency": "MAD",
                "row_selector": "table.table-cours tbody tr",
                "currency_selector": "td:nth-child(1)",
                "units_selector": "td:nth-child(2)",
                "rate_selector": "td:nth-child(3)",
                "date_selector": "p.date-cours",
            }
        },
    }
    return fast_settings(**{**values, **overrides})


async def test_ecb_reference_rates_in_euro_and_crossed(
    server: FakeServer, runtime_factory: Any
) -> None:
    server.route(ECB_PATH, Reply(body=payload("eurofxref-daily.xml"), content_type=XML))
    runtime: ProviderRuntime = runtime_factory(fx_settings(server))
    answer = await runtime.fetch(FxRatesQuery("EUR"))
    assert answer.provider == "ecb" and answer.fallback_trace == []
    assert answer.value.as_of == DAY_2024_01_05
    assert answer.value.rates["USD"] == 1.0921 and len(answer.value.rates) == 30
    crossed = await runtime.fetch(FxRatesQuery("USD", symbols=("EUR", "jpy")))
    assert crossed.value.rates == pytest.approx({"EUR": 1 / 1.0921, "JPY": 158.08 / 1.0921})


async def test_ecb_5xx_is_retried(
    server: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder, sleep: RecordingSleep
) -> None:
    server.route(
        ECB_PATH,
        Reply(503, b"<html>Service Unavailable</html>", "text/html"),
        Reply(body=payload("eurofxref-daily.xml"), content_type=XML),
    )
    runtime = runtime_factory(fx_settings(server))
    answer = await runtime.fetch(FxRatesQuery("EUR", symbols=("USD",)))
    assert answer.provider == "ecb" and answer.value.rates == {"USD": 1.0921}
    assert len(server.hits(ECB_PATH)) == 2 and len(sleep.waits) == 1
    assert recorder.records[-1].retries == 1 and recorder.records[-1].status is FetchStatus.SUCCESS


async def test_a_429_honours_retry_after(
    server: FakeServer, runtime_factory: Any, sleep: RecordingSleep
) -> None:
    server.route(
        ECB_PATH,
        Reply(429, b"Too Many Requests", "text/plain", headers={"Retry-After": "3"}),
        Reply(body=payload("eurofxref-daily.xml"), content_type=XML),
    )
    runtime = runtime_factory(fx_settings(server))
    answer = await runtime.fetch(FxRatesQuery("EUR"))
    assert answer.provider == "ecb"
    assert sleep.waits == [3.0]


async def test_a_malformed_body_is_not_retried_and_the_next_provider_answers(
    server: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder
) -> None:
    server.route(ECB_PATH, Reply(body=b"<gesmes:Envelope><Cube><Cube time=", content_type=XML))
    server.route(BAM_PATH, Reply(body=payload("reference-rates.html"), content_type="text/html"))
    runtime = runtime_factory(fx_settings(server))
    answer = await runtime.fetch(FxRatesQuery("USD", symbols=("MAD", "EUR")))
    assert len(server.hits(ECB_PATH)) == 1
    assert answer.provider == "html:bam"
    assert (
        answer.fallback_trace[0].provider == "ecb" and "not XML" in answer.fallback_trace[0].error
    )
    assert answer.value.rates == pytest.approx({"MAD": 9.9517, "EUR": 9.9517 / 10.8632})
    assert answer.value.as_of == DAY_2024_01_05
    assert [r.status for r in recorder.records] == [FetchStatus.FAILED, FetchStatus.SUCCESS]


async def test_a_timeout_falls_back_with_status_timeout(
    server: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder
) -> None:
    server.route(ECB_PATH, Reply(body=payload("eurofxref-daily.xml"), content_type=XML, delay=0.6))
    server.route(BAM_PATH, Reply(body=payload("reference-rates.html"), content_type="text/html"))
    runtime = runtime_factory(
        fx_settings(server, providers_timeout_seconds=0.15, providers_retry_attempts=1)
    )
    answer = await runtime.fetch(FxRatesQuery("MAD"))
    assert answer.provider == "html:bam"
    assert answer.fallback_trace[0].status == "TIMEOUT"
    assert recorder.records[0].status is FetchStatus.TIMEOUT


async def test_the_rate_table_scraper_reads_units_decimal_commas_and_quarantines_gaps(
    server: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder
) -> None:
    server.route(BAM_PATH, Reply(body=payload("reference-rates.html"), content_type="text/html"))
    runtime = runtime_factory(fx_settings(server, providers_fx_rates=["html:bam"]))
    answer = await runtime.fetch(FxRatesQuery("MAD"))
    rates = answer.value.rates
    assert rates["USD"] == pytest.approx(1 / 9.9517)
    assert rates["JPY"] == pytest.approx(100 / 6.8710)  # the table quotes per 100 yen
    assert "CHF" not in rates  # "n.d." on the page
    (rejected,) = recorder.records[0].rejected
    assert (
        rejected.reason == "non-positive or non-finite rate" and rejected.row["currency"] == "CHF"
    )


async def test_fred_observations_with_a_missing_value(
    server: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder
) -> None:
    server.route(FRED_PATH, Reply(body=payload("fred-cpiaucsl.json")))
    runtime = runtime_factory(
        fast_settings(
            providers_economic_series=["fred"],
            fred_base_url=server.url + "/fred",
            fred_api_key=FRED_KEY,
        )
    )
    answer = await runtime.fetch(SeriesQuery("CPIAUCSL", start=1_693_526_400))
    assert answer.value.values.tolist() == [307.288, 307.531, 308.024, 309.685]
    (request,) = server.hits(FRED_PATH)
    assert request.query["series_id"] == ["CPIAUCSL"] and request.query["api_key"] == [FRED_KEY]
    assert request.query["file_type"] == ["json"] and request.query["observation_start"] == [
        "2023-09-01"
    ]
    (record,) = recorder.records
    assert record.rows == 4 and record.rejected[0].reason == "missing or non-finite value"


async def test_fred_unknown_series_is_not_found_and_bad_json_is_malformed(
    server: FakeServer, runtime_factory: Any, recorder: MemoryFetchRecorder
) -> None:
    server.route(FRED_PATH, Reply(400, payload("fred-missing-series.json")))
    runtime = runtime_factory(
        fast_settings(
            providers_economic_series=["fred"],
            fred_base_url=server.url + "/fred",
            fred_api_key=FRED_KEY,
        )
    )
    with pytest.raises(ProviderSubjectNotFound):
        await runtime.fetch(SeriesQuery("NOPE"))
    server.route(FRED_PATH, Reply(200, b'{"observations": [{"date": "2024-01-01", "val'))
    with pytest.raises(NoProviderAnswered, match="did not return JSON") as failed:
        await runtime.fetch(SeriesQuery("CPIAUCSL"))
    assert FRED_KEY not in failed.value.detail
    assert all(FRED_KEY not in (record.error or "") for record in recorder.records)


async def test_fred_without_a_key_hands_over_to_the_files(
    server: FakeServer, runtime_factory: Any, tmp_path: Any
) -> None:
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "CPIAUCSL.csv").write_text("date,value\n2024-01-01,309.685\n")
    runtime = runtime_factory(
        fast_settings(
            providers_economic_series=["fred", "csv"],
            fred_base_url=server.url + "/fred",
            providers_files_dirs=[tmp_path],
        )
    )
    answer = await runtime.fetch(SeriesQuery("CPIAUCSL"))
    assert answer.provider == "csv"
    assert "QUANTDESK_FRED_API_KEY" in answer.fallback_trace[0].error
    assert server.requests == []


def polygon_settings(server: FakeServer, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "providers_bars": ["polygon"],
        "providers_quotes": ["polygon"],
        "polygon_base_url": server.url,
        "polygon_api_key": POLYGON_KEY,
    }
    return fast_settings(**{**values, **overrides})


AGGS_PATH = "/v2/aggs/ticker/AAPL/range/1/day/1704153600000/1704499200000"


async def test_polygon_aggregates_follow_next_url_with_the_key_in_a_header(
    server: FakeServer, runtime_factory: Any
) -> None:
    next_url = f"{server.url}{AGGS_PATH}?cursor=bGltaXQ9MyZzb3J0PWFzYw"
    first = payload("polygon-aggs-aapl-page1.json").replace(b"__NEXT_URL__", next_url.encode())
    server.route(AGGS_PATH, Reply(body=first), Reply(body=payload("polygon-aggs-aapl-page2.json")))
    runtime = runtime_factory(polygon_settings(server))
    answer = await runtime.fetch(
        BarsQuery("AAPL", Timeframe.D1, start=1_704_153_600, end=1_704_499_200)
    )
    assert answer.value.ts.tolist() == [1_704_171_600 + d * 86_400 for d in range(4)]
    assert answer.value.close.tolist() == [185.64, 184.25, 181.91, 181.18]
    first_request, second_request = server.hits(AGGS_PATH)
    assert first_request.headers["Authorization"] == f"Bearer {POLYGON_KEY}"
    assert "apiKey" not in first_request.query and second_request.query["cursor"]


async def test_polygon_never_follows_next_url_to_another_host(
    server: FakeServer, runtime_factory: Any
) -> None:
    first = payload("polygon-aggs-aapl-page1.json").replace(
        b"__NEXT_URL__", b"http://192.0.2.1/v2/aggs/steal"
    )
    server.route(AGGS_PATH, Reply(body=first))
    runtime = runtime_factory(polygon_settings(server))
    answer = await runtime.fetch(
        BarsQuery("AAPL", Timeframe.D1, start=1_704_153_600, end=1_704_499_200)
    )
    assert len(answer.value) == 3 and len(server.hits(AGGS_PATH)) == 1


async def test_polygon_snapshot_quote(server: FakeServer, runtime_factory: Any) -> None:
    server.route(
        "/v2/snapshot/locale/us/markets/stocks/tickers/AAPL",
        Reply(body=payload("polygon-snapshot-aapl.json")),
    )
    runtime = runtime_factory(polygon_settings(server))
    answer = await runtime.fetch(QuoteQuery("AAPL"))
    quote = answer.value
    assert (quote.price, quote.bid, quote.ask, quote.volume) == (181.18, 181.17, 181.19, 62379661.0)
    assert quote.ts == 1_704_488_399


async def test_polygon_429_beyond_the_retry_after_cap_moves_on(
    server: FakeServer, runtime_factory: Any, sleep: RecordingSleep, tmp_path: Any
) -> None:
    server.route(
        AGGS_PATH, Reply(429, payload("polygon-error-429.json"), headers={"Retry-After": "60"})
    )
    (tmp_path / "AAPL_1d.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,187.15,188.44,183.885,185.64,82488674\n"
    )
    runtime = runtime_factory(
        polygon_settings(server, providers_bars=["polygon", "csv"], providers_files_dirs=[tmp_path])
    )
    answer = await runtime.fetch(
        BarsQuery("AAPL", Timeframe.D1, start=1_704_153_600, end=1_704_499_200)
    )
    assert answer.provider == "csv"
    assert answer.fallback_trace[0].status == "RATE_LIMITED"
    assert len(server.hits(AGGS_PATH)) == 1 and sleep.waits == []


async def test_the_fred_key_never_reaches_the_logs(
    server: FakeServer, runtime_factory: Any
) -> None:
    from quantdesk.observability.logging import configure_logging
    from tests.support.secrets_watch import LOG_COLLECTOR

    settings = fast_settings(
        providers_economic_series=["fred"],
        fred_base_url=server.url + "/fred",
        fred_api_key=FRED_KEY,
    )
    configure_logging(settings)  # the app's handler, redaction included
    server.route(FRED_PATH, Reply(503, b"down"))  # every attempt: the failure is logged
    seen = len(LOG_COLLECTOR.lines)
    with pytest.raises(NoProviderAnswered):
        await runtime_factory(settings).fetch(SeriesQuery("CPIAUCSL"))
    lines = LOG_COLLECTOR.lines[seen:]
    assert len(server.hits(FRED_PATH)) == 3  # the key went out three times
    assert any("series/observations" in line for line in lines)  # the failure names the URL
    assert not any(FRED_KEY in line for line in lines)
