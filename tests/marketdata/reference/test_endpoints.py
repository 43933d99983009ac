"""GET /fx/rates, /economy/series/{id} and /fundamentals/{symbol}: stored reference data with
the market-data meta, scopes, cursor pages, and the financials cache."""

from __future__ import annotations

import datetime as dt

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.marketdata.providers.base import Fundamentals, FxRates, Series
from quantdesk.marketdata.reference.service import (
    fundamentals_service,
    fx_rate_service,
    series_service,
)
from quantdesk.models import SeriesKind
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem

DAY = 86_400
JAN_4, JAN_5 = 1_704_326_400, 1_704_412_800  # 2024-01-04 and 2024-01-05, 00:00 UTC
FETCHED = dt.datetime(2024, 1, 5, 16, 5, tzinfo=dt.UTC)
CPI_DAYS = ["2023-09-01", "2023-10-01", "2023-11-01", "2024-01-01", "2024-02-01"]
CPI_VALUES = [307.288, 307.531, 308.024, 309.685, 310.326]


def _epoch(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def _meta_ok(meta: dict[str, object], provider: str) -> None:
    assert meta["provider"] == provider and meta["fallback_trace"] == []
    assert meta["as_of"] == "2024-01-05T16:05:00Z"


@pytest.fixture
async def stored(db: Database) -> None:
    async with db.session() as session:
        for as_of, usd in ((JAN_4, 1.0953), (JAN_5, 1.0921)):
            await fx_rate_service.store(
                session,
                rates=FxRates("EUR", as_of, {"USD": usd, "JPY": 158.08}),
                provider="ecb",
                fetched_at=FETCHED,
            )
        await series_service.store(
            session,
            kind=SeriesKind.ECONOMIC,
            series=Series(
                "cpiaucsl",
                np.array([_epoch(day) for day in CPI_DAYS], dtype=np.int64),
                np.array(CPI_VALUES),
            ),
            provider="fred",
            fetched_at=FETCHED,
        )


@pytest.mark.usefixtures("stored")
async def test_fx_rates_latest_or_in_force_on_a_date(client: httpx.AsyncClient) -> None:
    latest = await client.get("/api/v1/fx/rates", params={"base": "eur"})  # anonymous guest
    assert latest.status_code == 200, latest.text
    body = latest.json()
    assert body["data"] == {
        "base": "EUR",
        "date": "2024-01-05",
        "rates": {"JPY": 158.08, "USD": 1.0921},
    }
    _meta_ok(body["meta"], "ecb")
    assert body["meta"]["cache"] == "miss"
    saturday = await client.get("/api/v1/fx/rates", params={"base": "EUR", "date": "2024-01-06"})
    assert saturday.json()["data"]["date"] == "2024-01-05"
    thursday = await client.get("/api/v1/fx/rates", params={"date": "2024-01-04"})
    assert thursday.json()["data"]["rates"]["USD"] == 1.0953
    assert_problem(await client.get("/api/v1/fx/rates", params={"date": "2023-12-31"}), 404)
    assert_problem(await client.get("/api/v1/fx/rates", params={"base": "GBP"}), 404)
    assert_problem(await client.get("/api/v1/fx/rates", params={"base": "EURO"}), 422)


@pytest.mark.usefixtures("stored")
async def test_economic_series_in_cursor_pages(client: httpx.AsyncClient) -> None:
    seen: list[tuple[str, float]] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        response = await client.get("/api/v1/economy/series/CPIAUCSL", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        _meta_ok(body["meta"], "fred")
        assert body["meta"]["series_id"] == "CPIAUCSL"
        assert body["meta"]["count"] == len(body["data"]) <= 2
        seen += [(row["date"], row["value"]) for row in body["data"]]
        if body["meta"]["next_cursor"] is None:
            break
        params["cursor"] = body["meta"]["next_cursor"]
    assert seen == list(zip(CPI_DAYS, CPI_VALUES, strict=True))
    ranged = await client.get(
        "/api/v1/economy/series/cpiaucsl", params={"start": "2023-10-01", "end": "2024-01-01"}
    )
    assert [row["date"] for row in ranged.json()["data"]] == CPI_DAYS[1:4]
    assert_problem(await client.get("/api/v1/economy/series/UNRATE"), 404)
    bad_range = {"start": "2024-01-02", "end": "2024-01-01"}
    assert_problem(await client.get("/api/v1/economy/series/CPIAUCSL", params=bad_range), 422)
    bad_cursor = {"cursor": "not-a-cursor"}
    assert_problem(await client.get("/api/v1/economy/series/CPIAUCSL", params=bad_cursor), 422)


async def _store_fundamentals(
    db: Database, app: FastAPI | None, as_of: str, revenue: float
) -> None:
    async with db.session() as session:
        await fundamentals_service.store(
            session,
            fundamentals=Fundamentals(
                "AAPL", _epoch(as_of), {"revenues": revenue, "fiscal_period": "Q"}
            ),
            provider="polygon",
            fetched_at=FETCHED,
            cache=app.state.cache if app is not None else None,
        )


async def _fundamentals(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[str, dict[str, object]]:
    response = await client.get("/api/v1/fundamentals/aapl", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert body["meta"]["cache"] == response.headers["x-cache"]  # type: ignore[index]
    return response.headers["x-cache"], body


async def test_fundamentals_need_read_financials(client: httpx.AsyncClient, db: Database) -> None:
    await _store_fundamentals(db, None, "2023-09-30", 383_285_000_000.0)
    assert_problem(await client.get("/api/v1/fundamentals/AAPL"), 401)
    guest = await login(client, await create_user(db, Role.GUEST))
    denied = assert_problem(
        await client.get("/api/v1/fundamentals/AAPL", headers=bearer(guest)), 403
    )
    assert "read:financials" in str(denied["detail"])
    user = bearer(await login(client, await create_user(db, Role.USER)))

    status, body = await _fundamentals(client, user)
    assert status == "miss"
    assert body["data"] == {
        "symbol": "AAPL",
        "as_of": "2023-09-30",
        "values": {"revenues": 383_285_000_000.0, "fiscal_period": "Q"},
    }
    _meta_ok(body["meta"], "polygon")  # type: ignore[arg-type]
    status, again = await _fundamentals(client, user)
    assert status == "hit" and again["data"] == body["data"]
    assert_problem(await client.get("/api/v1/fundamentals/MSFT", headers=user), 404)


async def test_a_new_snapshot_replaces_the_cached_one(
    client: httpx.AsyncClient, app: FastAPI, db: Database
) -> None:
    await _store_fundamentals(db, app, "2023-09-30", 383_285_000_000.0)
    user = bearer(await login(client, await create_user(db, Role.USER)))
    assert (await _fundamentals(client, user))[0] == "miss"

    await _store_fundamentals(db, app, "2023-12-30", 119_575_000_000.0)
    for _ in range(50):  # the invalidation runs as a task started at commit
        status, body = await _fundamentals(client, user)
        if status == "miss":
            break
    assert status == "miss"
    assert body["data"]["as_of"] == "2023-12-30"  # type: ignore[index]
    assert body["data"]["values"]["revenues"] == 119_575_000_000.0  # type: ignore[index]


async def test_fund_navs_are_their_own_series(client: httpx.AsyncClient, db: Database) -> None:
    days = ["2024-01-02", "2024-01-03", "2024-01-04"]
    async with db.session() as session:
        for kind, values in (
            (SeriesKind.FUND_NAV, [431.2, 428.9, 430.05]),
            (SeriesKind.ECONOMIC, [1.0, 2.0, 3.0]),
        ):
            await series_service.store(
                session,
                kind=kind,
                series=Series(
                    "vfiax",
                    np.array([_epoch(day) for day in days], dtype=np.int64),
                    np.array(values),
                ),
                provider="csv" if kind is SeriesKind.FUND_NAV else "fred",
                fetched_at=FETCHED,
            )
    response = await client.get("/api/v1/funds/VFIAX/navs", params={"start": "2024-01-03"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == [
        {"date": "2024-01-03", "value": 428.9},
        {"date": "2024-01-04", "value": 430.05},
    ]
    _meta_ok(body["meta"], "csv")
    assert body["meta"]["series_id"] == "VFIAX" and body["meta"]["next_cursor"] is None
    # The economic series of the same id is not a NAV, and the other way round.
    economic = await client.get("/api/v1/economy/series/VFIAX")
    assert [row["value"] for row in economic.json()["data"]] == [1.0, 2.0, 3.0]
    assert_problem(await client.get("/api/v1/funds/VTSAX/navs"), 404)
    bad_range = {"start": "2024-01-04", "end": "2024-01-03"}
    assert_problem(await client.get("/api/v1/funds/VFIAX/navs", params=bad_range), 422)
    assert_problem(await client.get("/api/v1/funds/bad%20id/navs"), 422)
