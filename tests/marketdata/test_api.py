"""The market-data read API, on both databases."""

from __future__ import annotations

import csv
import io

import httpx
import numpy as np
import pytest

from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import AssetClass
from tests.support.factories import START_2024, create_instrument, load_bars, synthetic_bars
from tests.support.problems import assert_problem

PROBLEM = "application/problem+json"


@pytest.fixture
async def catalog(db: Database) -> None:
    """Five instruments across classes and exchanges; TEST has 300 daily bars."""
    await create_instrument(db, "TEST")
    await create_instrument(db, "AAPL", name="Apple Inc.", exchange="NASDAQ")
    await create_instrument(db, "MSFT", name="Microsoft", exchange="NASDAQ")
    await create_instrument(
        db,
        "EURUSD",
        name="Euro / US Dollar",
        exchange="FOREX",
        asset_class=AssetClass.FX,
        sector=None,
    )
    await create_instrument(
        db, "BTCUSD", name="Bitcoin", exchange="CRYPTO", asset_class=AssetClass.CRYPTO, sector=None
    )
    await load_bars(db, "TEST", synthetic_bars(300))


@pytest.mark.usefixtures("catalog")
async def test_instruments_are_listed_by_symbol_with_cursor_pages(
    client: httpx.AsyncClient,
) -> None:
    seen: list[str] = []
    url = "/api/v1/instruments?limit=2"
    while True:
        body = (await client.get(url)).json()
        seen += [item["symbol"] for item in body["data"]]
        assert body["meta"]["count"] == len(body["data"])
        if body["meta"]["next_cursor"] is None:
            break
        url = f"/api/v1/instruments?limit=2&cursor={body['meta']['next_cursor']}"
    assert seen == ["AAPL", "BTCUSD", "EURUSD", "MSFT", "TEST"]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("asset_class=fx", ["EURUSD"]),
        ("exchange=nasdaq", ["AAPL", "MSFT"]),
        ("q=micro", ["MSFT"]),
        ("q=usd", ["BTCUSD", "EURUSD"]),
        ("asset_class=equity&exchange=NYSE", ["TEST"]),
    ],
)
async def test_instrument_filters(
    client: httpx.AsyncClient, query: str, expected: list[str]
) -> None:
    body = (await client.get(f"/api/v1/instruments?{query}")).json()
    assert [item["symbol"] for item in body["data"]] == expected


@pytest.mark.usefixtures("catalog")
async def test_bad_cursor_and_filter_are_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/instruments?cursor=%%%"), 422)
    body = assert_problem(await client.get("/api/v1/instruments?asset_class=stocks"), 422)
    assert body["errors"][0]["loc"] == ["query", "asset_class"]  # type: ignore[index]


@pytest.mark.usefixtures("catalog")
async def test_instrument_detail_shows_coverage(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/instruments/test")).json()["data"]
    assert body["symbol"] == "TEST"
    assert body["coverage"] == [
        {
            "timeframe": "1d",
            "bars": 300,
            "first": "2024-01-01T00:00:00Z",
            "last": "2024-10-26T00:00:00Z",
        }
    ]


@pytest.mark.usefixtures("catalog")
async def test_unknown_symbol_is_404_problem(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/instruments/NOPE", "/api/v1/bars/NOPE", "/api/v1/quotes/NOPE"):
        body = assert_problem(await client.get(path), 404)
        assert "NOPE" in str(body["detail"])


@pytest.mark.usefixtures("catalog")
async def test_malformed_symbol_is_422(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/bars/%3Cscript%3E"), 422)
    assert body["errors"][0]["loc"] == ["path", "symbol"]  # type: ignore[index]


@pytest.mark.usefixtures("catalog")
async def test_bars_default_to_latest_rows_oldest_first(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/bars/TEST?limit=3")).json()
    assert [row["ts"] for row in body["data"]] == [
        "2024-10-24T00:00:00Z",
        "2024-10-25T00:00:00Z",
        "2024-10-26T00:00:00Z",
    ]
    assert body["meta"]["count"] == 3 and body["meta"]["resampled"] is False
    expected = synthetic_bars(300)
    assert body["data"][-1]["close"] == pytest.approx(float(expected.close[-1]), rel=1e-12)


@pytest.mark.usefixtures("catalog")
async def test_bars_start_end_are_inclusive(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/api/v1/bars/TEST", params={"start": "2024-01-03", "end": "2024-01-05T00:00:00Z"}
    )
    assert [row["ts"][:10] for row in response.json()["data"]] == [
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
    ]
    with_offset = await client.get(
        "/api/v1/bars/TEST", params={"start": "2024-01-03T01:00:00+01:00", "limit": 1}
    )
    assert with_offset.json()["data"][0]["ts"] == "2024-01-03T00:00:00Z"


@pytest.mark.usefixtures("catalog")
async def test_bars_columnar_and_csv_carry_the_same_values(client: httpx.AsyncClient) -> None:
    rows = (await client.get("/api/v1/bars/TEST?limit=50")).json()["data"]
    columns = (await client.get("/api/v1/bars/TEST?limit=50&format=columns")).json()["data"]
    assert set(columns) == {"t", "o", "h", "l", "c", "v"}
    assert columns["t"][0] == START_2024 + 250 * 86_400
    assert columns["c"] == [row["close"] for row in rows]
    iso = (await client.get("/api/v1/bars/TEST?limit=50&format=columns&time_format=iso")).json()
    assert iso["data"]["t"] == [row["ts"] for row in rows]

    response = await client.get("/api/v1/bars/TEST?limit=50", headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["timestamp"] for r in parsed] == [row["ts"] for row in rows]
    assert [float(r["close"]) for r in parsed] == [row["close"] for row in rows]


@pytest.mark.usefixtures("catalog")
async def test_bars_resample_daily_to_weekly(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/bars/TEST?timeframe=1w&start=2024-01-01&limit=3")).json()
    assert body["meta"]["resampled"] is True and body["meta"]["source_timeframe"] == "1d"
    first = body["data"][0]
    daily = synthetic_bars(300)
    week = slice(0, 7)  # 2024-01-01 is a Monday: the first seven bars form the first week
    assert first["ts"] == "2024-01-01T00:00:00Z"
    assert first["open"] == pytest.approx(daily.open[0])
    assert first["high"] == pytest.approx(float(np.max(daily.high[week])))
    assert first["low"] == pytest.approx(float(np.min(daily.low[week])))
    assert first["close"] == pytest.approx(daily.close[6])
    assert first["volume"] == pytest.approx(float(np.sum(daily.volume[week])))


@pytest.mark.usefixtures("catalog")
async def test_resampled_latest_weeks_are_whole(client: httpx.AsyncClient) -> None:
    latest = (await client.get("/api/v1/bars/TEST?timeframe=1w&limit=4")).json()["data"]
    everything = (await client.get("/api/v1/bars/TEST?timeframe=1w&start=2024-01-01")).json()[
        "data"
    ]
    assert latest == everything[-4:]


@pytest.mark.usefixtures("catalog")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("timeframe=2d", "timeframe"),
        ("timeframe=1h", "timeframe"),  # finer than anything stored
        ("start=2024-03-01&end=2024-02-01", "start"),
        ("limit=100001", "limit"),
        ("limit=0", "limit"),
        ("start=yesterday", "start"),
        ("format=xml", "format"),
    ],
)
async def test_bad_bar_queries_are_422_with_field(
    client: httpx.AsyncClient, query: str, field: str
) -> None:
    body = assert_problem(await client.get(f"/api/v1/bars/TEST?{query}"), 422)
    assert body["errors"][0]["loc"] == ["query", field]  # type: ignore[index]


@pytest.mark.usefixtures("catalog")
async def test_quote_is_derived_from_the_latest_bars(client: httpx.AsyncClient) -> None:
    daily = synthetic_bars(300)
    quote = (await client.get("/api/v1/quotes/TEST")).json()["data"]
    assert quote["price"] == pytest.approx(daily.close[-1])
    assert quote["previous_close"] == pytest.approx(daily.close[-2])
    assert quote["change"] == pytest.approx(daily.close[-1] - daily.close[-2])
    assert quote["change_pct"] == pytest.approx((daily.close[-1] / daily.close[-2] - 1) * 100)
    assert quote["day_high"] == pytest.approx(daily.high[-1])
    assert quote["day_low"] == pytest.approx(daily.low[-1])
    assert quote["volume"] == pytest.approx(daily.volume[-1])
    assert quote["as_of"] == "2024-10-26T00:00:00Z"


@pytest.mark.usefixtures("catalog")
async def test_intraday_quote_aggregates_the_last_utc_day(
    client: httpx.AsyncClient, db: Database
) -> None:
    hourly = synthetic_bars(72, step=3_600, seed=3)  # three whole days
    await load_bars(db, "AAPL", hourly, Timeframe.H1)
    quote = (await client.get("/api/v1/quotes/AAPL")).json()["data"]
    last_day = slice(48, 72)
    assert quote["day_open"] == pytest.approx(hourly.open[48])
    assert quote["day_high"] == pytest.approx(float(hourly.high[last_day].max()))
    assert quote["day_low"] == pytest.approx(float(hourly.low[last_day].min()))
    assert quote["volume"] == pytest.approx(float(hourly.volume[last_day].sum()))
    assert quote["previous_close"] == pytest.approx(hourly.close[47])


@pytest.mark.usefixtures("catalog")
async def test_instrument_without_bars_has_no_quote(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/quotes/MSFT"), 404)
    assert "no bars" in str(body["detail"])
