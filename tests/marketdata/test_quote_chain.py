"""GET /quotes/{symbol} through the quotes provider chain, and `marketdata.fetch_quotes`.

The providers are a local server on 127.0.0.1 answering in Polygon's snapshot format and
Binance's REST format (ccxt pointed at it); the app is the real one, on both engines.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.registry import JobContext, get_task
from quantdesk.marketdata.freshness import use_clock
from quantdesk.marketdata.providers.base import Quote as ProviderQuote
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.marketdata.quotes import provider_quote_values
from quantdesk.models import FetchStatus, ProviderFetch, Quote
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.problems import assert_problem
from tests.support.provider_fakes import FakeServer, Reply, fake_server, payload
from tests.support.secrets_watch import remember
from tests.support.settings import make_settings

POLYGON_KEY = "pk_test_Qc47vN2xLe9R"
remember(POLYGON_KEY)
SNAPSHOT = "/v2/snapshot/locale/us/markets/stocks/tickers/{}"
TICKER = "/api/v3/ticker/24hr"
BARS = synthetic_bars(3)  # 2024-01-01 .. 2024-01-03, daily
SNAPSHOT_PRICE, SNAPSHOT_TS = 181.18, 1_704_488_399  # payload: 2024-01-05T20:59:59Z
DOWN = Reply(500, b'{"status": "ERROR"}')


def snapshot(price: float = SNAPSHOT_PRICE) -> Reply:
    body = json.loads(payload("polygon-snapshot-aapl.json"))
    body["ticker"]["lastTrade"]["p"] = price
    return Reply(body=json.dumps(body).encode())


@pytest.fixture
def chain() -> list[str]:
    """The quotes chain; a test parametrizes it to change it."""
    return ["polygon"]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake_server() as running:
        running.route(SNAPSHOT.format("AAPL"), snapshot())
        running.route("/api/v3/exchangeInfo", Reply(body=payload("binance-exchangeinfo.json")))
        for futures in ("/fapi/v1/exchangeInfo", "/dapi/v1/exchangeInfo"):
            running.route(futures, Reply(body=b'{"timezone":"UTC","symbols":[]}'))
        running.route(TICKER, Reply(body=payload("binance-ticker-btcusdt.json")))
        yield running


@pytest.fixture
def settings(database_url: str, server: FakeServer, chain: list[str]) -> Settings:
    return make_settings(
        database_url,
        providers_quotes=chain,
        polygon_base_url=server.url,
        polygon_api_key=POLYGON_KEY,
        ccxt_api_urls={"binance": server.url},
        providers_retry_attempts=1,
        providers_timeout_seconds=5.0,
        providers_rate_per_second=0.0,
    )


@pytest.fixture
async def aapl(db: Database) -> None:
    await create_instrument(db, "AAPL")
    await load_bars(db, "AAPL", BARS)


async def _get(client: httpx.AsyncClient, url: str) -> tuple[str, dict[str, Any]]:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["meta"]["cache"] == response.headers["x-cache"]
    return response.headers["x-cache"], body


async def _stored(db: Database, symbol: str) -> Quote:
    async with db.session() as session:
        return (await quote_service.get(session, symbol))[1]


@pytest.mark.usefixtures("aapl")
async def test_a_miss_asks_the_chain_and_stores_its_quote(
    client: httpx.AsyncClient, db: Database, server: FakeServer
) -> None:
    status, body = await _get(client, "/api/v1/quotes/aapl")
    assert status == "miss"
    meta, data = body["meta"], body["data"]
    assert meta["provider"] == "polygon" and meta["fallback_trace"] == []
    assert meta["as_of"].endswith("Z")
    assert data["price"] == SNAPSHOT_PRICE and data["source"] == "polygon"
    assert data["as_of"] == "2024-01-05T20:59:59Z" and data["volume"] == 62379661.0
    # A later day than the last bar: its close is the previous close, the day is unknown.
    assert data["previous_close"] == pytest.approx(BARS.close[-1])
    assert data["change"] == pytest.approx(SNAPSHOT_PRICE - BARS.close[-1])
    assert data["day_open"] is None and data["day_high"] is None
    (request,) = server.hits(SNAPSHOT.format("AAPL"))
    assert request.headers["Authorization"] == f"Bearer {POLYGON_KEY}"
    stored = await _stored(db, "AAPL")
    assert (stored.price, stored.source) == (SNAPSHOT_PRICE, "polygon")


@pytest.mark.usefixtures("aapl")
async def test_a_hit_answers_the_same_meta_without_asking_the_provider(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    with use_clock(lambda: SNAPSHOT_TS + 60.0):  # both answers aged at the same instant
        _, first = await _get(client, "/api/v1/quotes/AAPL")
        status, second = await _get(client, "/api/v1/quotes/AAPL")
    assert status == "hit"
    assert second["data"] == first["data"]
    assert {**second["meta"], "cache": "miss"} == first["meta"]
    assert len(server.hits(SNAPSHOT.format("AAPL"))) == 1


@pytest.mark.usefixtures("aapl")
async def test_a_miss_records_its_fetch_off_the_request_path_within_a_second(
    client: httpx.AsyncClient, db: Database
) -> None:
    await _get(client, "/api/v1/quotes/AAPL")
    fetches: list[ProviderFetch] = []
    for _ in range(100):  # the batch is written within 0.2 s of the call
        async with db.session() as session:
            fetches = list((await session.scalars(select(ProviderFetch))).all())
        if fetches:
            break
        await asyncio.sleep(0.01)
    (fetch,) = fetches
    assert (fetch.provider, fetch.kind, fetch.subject) == ("polygon", "quotes", "AAPL")
    assert fetch.status is FetchStatus.SUCCESS and fetch.healthy is True


@pytest.mark.parametrize("chain", [["polygon", "ccxt:binance"]])
async def test_the_next_provider_answers_when_the_first_fails(
    client: httpx.AsyncClient, db: Database, server: FakeServer
) -> None:
    await create_instrument(db, "BTCUSD", exchange="BINANCE", currency="USD")
    server.route(SNAPSHOT.format("BTCUSD"), DOWN)
    status, body = await _get(client, "/api/v1/quotes/BTCUSD")
    assert status == "miss"
    assert body["meta"]["provider"] == "ccxt:binance"
    (step,) = body["meta"]["fallback_trace"]
    assert (step["provider"], step["status"]) == ("polygon", "FAILED")
    assert "500" in step["error"]
    assert body["data"]["price"] == 43613.57 and body["data"]["source"] == "ccxt:binance"
    assert body["data"]["previous_close"] is None  # nothing stored to take it from
    _, again = await _get(client, "/api/v1/quotes/BTCUSD")
    assert again["meta"]["fallback_trace"] == body["meta"]["fallback_trace"]


@pytest.mark.usefixtures("aapl")
async def test_an_exhausted_chain_answers_the_stored_quote_with_the_trace(
    client: httpx.AsyncClient, db: Database, server: FakeServer
) -> None:
    server.route(SNAPSHOT.format("AAPL"), DOWN)
    status, body = await _get(client, "/api/v1/quotes/AAPL")
    assert status == "miss"
    assert body["meta"]["provider"] == "bars:1d" == body["data"]["source"]
    assert [(s["provider"], s["status"]) for s in body["meta"]["fallback_trace"]] == [
        ("polygon", "FAILED")
    ]
    assert body["meta"]["as_of"] == body["data"]["as_of"] == "2024-01-03T00:00:00Z"
    assert body["data"]["price"] == pytest.approx(BARS.close[-1])
    assert (await _stored(db, "AAPL")).source == "bars:1d"  # nothing overwritten


async def test_an_exhausted_chain_without_a_stored_quote_is_the_chains_error(
    client: httpx.AsyncClient, db: Database, server: FakeServer
) -> None:
    await create_instrument(db, "AAPL")  # no bars: no stored quote
    server.route(SNAPSHOT.format("AAPL"), DOWN)
    response = await client.get("/api/v1/quotes/AAPL")
    problem = assert_problem(response, 503)
    assert problem["type"] == "https://quantdesk.dev/problems/providers-unavailable"
    errors: Any = problem["errors"]
    assert [error["loc"] for error in errors] == [["provider", "polygon"]]
    assert "x-cache" not in response.headers


async def test_an_unknown_symbol_is_404_without_asking_a_provider(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    problem = assert_problem(await client.get("/api/v1/quotes/NOPE"), 404)
    assert problem["type"] == "https://quantdesk.dev/problems/instrument-not-found"
    assert server.requests == []


@pytest.mark.parametrize("chain", [["polygon", "ccxt:binance"]])
@pytest.mark.usefixtures("aapl")
async def test_a_named_provider_answers_alone_or_its_error_is_the_answer(
    client: httpx.AsyncClient, db: Database, server: FakeServer
) -> None:
    await create_instrument(db, "BTCUSD", exchange="BINANCE", currency="USD")
    status, named = await _get(client, "/api/v1/quotes/BTCUSD?provider=ccxt:binance")
    assert status == "miss" and named["meta"]["provider"] == "ccxt:binance"
    assert server.hits(SNAPSHOT.format("BTCUSD")) == []  # the chain's first was not asked
    # The key includes the provider: the chain's own answer is another entry.
    status, _ = await _get(client, "/api/v1/quotes/BTCUSD")
    assert status == "miss"

    server.route(SNAPSHOT.format("AAPL"), DOWN)
    tickers = len(server.hits(TICKER))
    problem = assert_problem(await client.get("/api/v1/quotes/AAPL?provider=POLYGON"), 502)
    assert problem["type"] == "https://quantdesk.dev/problems/provider-failed"
    # Neither the next provider nor the stored quote (AAPL has bars) stood in for it.
    assert len(server.hits(TICKER)) == tickers


@pytest.mark.parametrize("name", ["csv", "nope"])
async def test_a_provider_outside_the_quotes_chain_is_422(
    client: httpx.AsyncClient, server: FakeServer, name: str
) -> None:
    problem = assert_problem(await client.get(f"/api/v1/quotes/AAPL?provider={name}"), 422)
    assert problem["type"] == "https://quantdesk.dev/problems/unknown-provider"
    assert server.requests == []


@pytest.mark.parametrize("chain", [[]])
@pytest.mark.usefixtures("aapl")
async def test_without_a_quotes_chain_the_stored_quote_answers(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    status, body = await _get(client, "/api/v1/quotes/AAPL")
    assert status == "miss"
    assert body["meta"]["provider"] == "bars:1d" and body["meta"]["fallback_trace"] == []
    assert_problem(await client.get("/api/v1/quotes/AAPL?provider=polygon"), 422)
    assert server.requests == []


# --------------------------------------------------------------------------- the job


async def _run_fetch_quotes(db: Database, settings: Settings) -> Any:
    async def no_follow_ups(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("fetch_quotes starts no other job")

    context = JobContext(
        db=db,
        settings=settings,
        name="marketdata.fetch_quotes",
        task_id="t",
        attempt=1,
        enqueue=no_follow_ups,
    )
    return await get_task("marketdata.fetch_quotes").fn(context)


@pytest.mark.usefixtures("aapl")
async def test_fetch_quotes_stores_every_active_quote_and_drops_the_cached_one(
    client: httpx.AsyncClient, app: FastAPI, db: Database, settings: Settings, server: FakeServer
) -> None:
    await create_instrument(db, "MSFT")  # active, unknown to the provider (404)
    await create_instrument(db, "IBM", active=False)
    await _get(client, "/api/v1/quotes/AAPL")
    assert (await _get(client, "/api/v1/quotes/AAPL"))[0] == "hit"
    server.route(SNAPSHOT.format("AAPL"), snapshot(190.5))

    result = await _run_fetch_quotes(db, settings)

    assert result.written == {"AAPL": 1} and result.providers == {"AAPL": "polygon"}
    assert [item["subject"] for item in result.skipped] == ["MSFT"]
    assert server.hits(SNAPSHOT.format("IBM")) == []
    stored = await _stored(db, "AAPL")
    assert (stored.price, stored.source) == (190.5, "polygon")
    status, body = await _get(client, "/api/v1/quotes/AAPL")
    assert status == "miss" and body["data"]["price"] == 190.5


async def test_fetch_quotes_without_a_quotes_chain_is_skipped(
    db: Database, settings: Settings, server: FakeServer
) -> None:
    result = await _run_fetch_quotes(db, settings.model_copy(update={"providers_quotes": []}))
    assert result.did_nothing and result.reason is not None and not result.written
    assert server.requests == []


# --------------------------------------------------------------------------- the merge


def _stored_quote(as_of: datetime) -> Quote:
    return Quote(
        instrument_id=1,
        price=100.0,
        previous_close=98.0,
        change=2.0,
        change_pct=2.0 / 98.0 * 100,
        day_open=99.0,
        day_high=101.0,
        day_low=97.0,
        volume=1_000.0,
        as_of=as_of,
        source="bars:1h",
    )


SAME_DAY = datetime(2024, 1, 5, 15, tzinfo=UTC)
DAY_BEFORE = datetime(2024, 1, 4, 21, tzinfo=UTC)
LONG_BEFORE = datetime(2023, 12, 29, 21, tzinfo=UTC)  # 7 days: not the last session's close
QUOTE = ProviderQuote(symbol="AAPL", price=102.0, ts=SNAPSHOT_TS)  # 2024-01-05, no volume


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        # Same day: the day is kept and widened, change is against the same previous close.
        (_stored_quote(SAME_DAY), (98.0, 4.0, 99.0, 102.0, 97.0, 1_000.0)),
        # A later day: yesterday's price is the previous close; today's range is unknown.
        (_stored_quote(DAY_BEFORE), (100.0, 2.0, None, None, None, None)),
        (_stored_quote(LONG_BEFORE), (None, None, None, None, None, None)),
        (None, (None, None, None, None, None, None)),
    ],
)
def test_a_provider_quote_keeps_what_the_stored_quote_knows_of_its_day(
    stored: Quote | None, expected: tuple[float | None, ...]
) -> None:
    values = provider_quote_values(1, stored, QUOTE, "polygon")
    fields = ("previous_close", "change", "day_open", "day_high", "day_low", "volume")
    assert tuple(values[name] for name in fields) == pytest.approx(expected)
    assert values["price"] == 102.0 and values["source"] == "polygon"
    assert values["as_of"] == datetime(2024, 1, 5, 20, 59, 59, tzinfo=UTC)
