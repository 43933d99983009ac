"""POST /screener: allow-listed fields and operators compiled to SQL over the snapshot, keyset
pagination that neither repeats nor skips, indicator values from the engine, and 422s naming
what is allowed."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import numpy as np
import pytest

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.indicators.moving_averages import sma
from quantdesk.engine.indicators.oscillators import rsi
from quantdesk.marketdata.providers.base import Fundamentals
from quantdesk.marketdata.reference.service import fundamentals_service
from tests.support.market import add_daily, epoch, refresh

FRIDAY, SATURDAY = date(2024, 3, 15), date(2024, 3, 16)
SECTORS = ("Technology", "Energy", "Utilities", None)


async def _universe(db: Database, count: int = 23) -> dict[str, list[float]]:
    """`count` equities with 260 random-walk closes each; a few without a sector."""
    rng = np.random.default_rng(11)
    closes: dict[str, list[float]] = {}
    for index in range(count):
        symbol = f"S{index:02d}"
        series = list(20 + 5 * index * np.exp(np.cumsum(rng.normal(0, 0.02, 260))))
        closes[symbol] = series
        await add_daily(
            db, symbol, FRIDAY, series, volume=1_000 * (index + 1), sector=SECTORS[index % 4]
        )
    return closes


async def _screen(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/screener", json=body)


async def test_filters_sort_and_indicator_values(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    closes = await _universe(db)
    await refresh(db, settings, SATURDAY)
    response = await _screen(
        client,
        filters=[
            {"field": "sector", "op": "in", "value": ["Technology", "Energy"]},
            {"field": "volume", "op": "gte", "value": 5_000},
        ],
        sort="-volume",
        limit=100,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    symbols = [row["symbol"] for row in body["data"]]
    expected = [f"S{i:02d}" for i in range(22, 3, -1) if SECTORS[i % 4] in ("Technology", "Energy")]
    assert symbols == expected
    assert body["meta"]["total"] == len(expected) and body["meta"]["next_cursor"] is None
    row = body["data"][0]
    series = np.asarray(closes[row["symbol"]])
    assert row["rsi_14"] == pytest.approx(rsi(series, 14)[-1])
    assert row["sma_200"] == pytest.approx(sma(series, 200)[-1])
    assert row["sma_50_distance_pct"] == pytest.approx((series[-1] / sma(series, 50)[-1] - 1) * 100)
    assert row["change_pct"] == pytest.approx((series[-1] / series[-2] - 1) * 100)
    assert row["as_of"] == "2024-03-15"


@pytest.mark.parametrize("sort", ["-change_pct", "sector", "-rsi_14", "name"])
async def test_pages_cover_every_row_once_in_order(
    db: Database, settings: Settings, client: httpx.AsyncClient, sort: str
) -> None:
    await _universe(db)
    await refresh(db, settings, SATURDAY)
    whole = (await _screen(client, sort=sort, limit=500)).json()["data"]
    assert len(whole) == 23
    paged: list[str] = []
    cursor = None
    while True:
        body = (await _screen(client, sort=sort, limit=4, cursor=cursor)).json()
        paged += [row["symbol"] for row in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    assert paged == [row["symbol"] for row in whole]
    field = sort.lstrip("-")
    values = [row[field] for row in whole if row[field] is not None]
    assert values == sorted(values, reverse=sort.startswith("-"))
    # NULLs (the sector-less) come last.
    nulls = [row[field] is None for row in whole]
    assert nulls == sorted(nulls)


async def test_between_is_null_and_text_equality(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await _universe(db, count=8)
    await refresh(db, settings, SATURDAY)
    body = (
        await _screen(
            client,
            filters=[
                {"field": "volume", "op": "between", "value": [2_000, 6_000]},
                {"field": "sector", "op": "is_null", "value": False},
            ],
            sort="volume",
        )
    ).json()
    assert [row["symbol"] for row in body["data"]] == ["S01", "S02", "S04", "S05"]
    body = (await _screen(client, filters=[{"field": "symbol", "op": "eq", "value": "S03"}])).json()
    assert [row["sector"] for row in body["data"]] == [None]


async def test_market_cap_and_pe_from_stored_fundamentals(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await add_daily(db, "ACME", FRIDAY, [40, 50], volume=10)
    async with db.session() as session:
        await fundamentals_service.store(
            session,
            fundamentals=Fundamentals(
                symbol="ACME",
                as_of=epoch(date(2023, 12, 31)),
                values={"shares_outstanding": 1_000_000, "diluted_earnings_per_share": 2.5},
            ),
            provider="test",
            fetched_at=None,
        )
    await refresh(db, settings, SATURDAY)
    body = (await _screen(client, filters=[{"field": "pe", "op": "lt", "value": 25}])).json()
    (row,) = body["data"]
    assert (row["pe"], row["market_cap"]) == (20.0, 50_000_000.0)


@pytest.mark.parametrize(
    ("body", "loc", "names"),
    [
        ({"filters": [{"field": "colour", "op": "eq", "value": 1}]}, "field", "change_pct"),
        ({"filters": [{"field": "price", "op": "like", "value": 1}]}, "op", "between"),
        ({"filters": [{"field": "price", "op": "gt", "value": "cheap"}]}, "value", "number"),
        ({"filters": [{"field": "sector", "op": "gt", "value": "A"}]}, "op", "not_in"),
        ({"filters": [{"field": "price", "op": "between", "value": [1]}]}, "value", "[low"),
        ({"sort": "-colour"}, "sort", "change_pct"),
        ({"limit": 0}, "limit", ""),
        ({"limit": 501}, "limit", ""),
        ({"cursor": "not-a-cursor"}, "cursor", "cursor"),
        ({"filters": [], "colour": 1}, "colour", ""),
        ({"filters": [{"field": "price", "op": "gt", "value": 1, "x": 2}]}, "x", ""),
    ],
)
async def test_bad_requests_are_422_naming_the_field_and_what_is_allowed(
    client: httpx.AsyncClient, body: dict[str, Any], loc: str, names: str
) -> None:
    response = await client.post("/api/v1/screener", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    (error,) = response.json()["errors"]
    assert error["loc"][-1] == loc
    assert names in error["msg"]


async def test_a_cursor_only_continues_its_own_query(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await _universe(db, count=6)
    await refresh(db, settings, SATURDAY)
    cursor = (await _screen(client, sort="volume", limit=2)).json()["meta"]["next_cursor"]
    response = await _screen(client, sort="-volume", limit=2, cursor=cursor)
    assert response.status_code == 422
    assert "another query" in response.json()["errors"][0]["msg"]


async def test_before_any_refresh_the_screener_says_how_to_get_data(
    client: httpx.AsyncClient,
) -> None:
    body = (await _screen(client)).json()
    assert body["data"] == [] and "market.refresh" in body["meta"]["message"]
