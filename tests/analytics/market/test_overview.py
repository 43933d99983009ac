"""Market summary, movers and sectors: computed from stored bars by market.refresh, with the
documented criteria (min price, min volume, last complete session, current session only)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from quantdesk.config import Settings
from quantdesk.db import Database
from tests.support.market import add_daily, refresh

FRIDAY = date(2024, 3, 15)
SATURDAY, SUNDAY, MONDAY = date(2024, 3, 16), date(2024, 3, 17), date(2024, 3, 18)


async def _market(db: Database) -> None:
    """Equities whose last bar is Friday; one penny stock, one stale, one FX pair."""
    await add_daily(db, "UPP", FRIDAY, [100, 100, 105], volume=5_000, sector="Technology")
    await add_daily(db, "DWN", FRIDAY, [50, 50, 49], volume=9_000, sector="Energy")
    await add_daily(db, "FLAT", FRIDAY, [20, 20, 20], volume=100, sector="Technology")
    await add_daily(db, "PENNY", FRIDAY, [0.5, 0.5, 0.6], volume=1e6, sector="Energy")
    await add_daily(db, "OLD", date(2024, 3, 1), [10, 10, 30], volume=10, sector="Energy")
    await add_daily(
        db,
        "EURUSD",
        FRIDAY,
        [1.08, 1.09],
        volume=0,
        asset_class="fx",
        exchange="FOREX",
        sector=None,
    )


async def test_summary_counts_only_qualifying_current_instruments(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await _market(db)
    result = await refresh(db, settings, SATURDAY)
    assert (result.instruments, result.snapshot_rows) == (6, 6)
    body = (await client.get("/api/v1/market/summary")).json()
    assert body["meta"]["message"] is None
    assert body["meta"]["criteria"]["min_price"] == 1.0
    by_class = {row["asset_class"]: row for row in body["data"]}
    equity = by_class["equity"]
    # PENNY is below the minimum price, OLD's last session is not the equities' latest.
    assert (
        equity["instruments"],
        equity["gainers"],
        equity["losers"],
        equity["unchanged"],
    ) == (
        3,
        1,
        1,
        1,
    )
    assert equity["as_of"] == "2024-03-15"
    assert equity["volume"] == pytest.approx(5_000 + 9_000 + 100)
    assert equity["turnover"] == pytest.approx(105 * 5_000 + 49 * 9_000 + 20 * 100)
    assert equity["average_change_pct"] == pytest.approx((5.0 - 2.0 + 0.0) / 3)
    assert by_class["fx"]["gainers"] == 1  # no volume, but the minimum volume is 0
    only_fx = (await client.get("/api/v1/market/summary?asset_class=fx")).json()["data"]
    assert [row["asset_class"] for row in only_fx] == ["fx"]


async def test_movers_rank_by_documented_order(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await _market(db)
    await refresh(db, settings, SATURDAY)

    async def movers(query: str) -> list[tuple[int, str]]:
        body = (await client.get(f"/api/v1/market/movers?{query}")).json()
        return [(row["rank"], row["symbol"]) for row in body["data"]]

    assert await movers("kind=gainers") == [(1, "UPP"), (2, "EURUSD")]
    assert await movers("kind=gainers&asset_class=equity") == [(1, "UPP")]
    assert await movers("kind=losers") == [(1, "DWN")]
    assert await movers("kind=active&limit=2") == [(1, "DWN"), (2, "UPP")]
    first = (await client.get("/api/v1/market/movers?kind=gainers&limit=1")).json()["data"][0]
    assert first["change_pct"] == pytest.approx(5.0)
    assert first["price"] == 105 and first["as_of"] == "2024-03-15"


async def test_sectors_aggregate_the_qualifying_equities(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await _market(db)
    await refresh(db, settings, SATURDAY)
    body = (await client.get("/api/v1/market/sectors")).json()
    sectors = {row["sector"]: row for row in body["data"]}
    assert set(sectors) == {"Technology", "Energy"}
    assert (sectors["Technology"]["instruments"], sectors["Technology"]["gainers"]) == (
        2,
        1,
    )
    assert (sectors["Energy"]["instruments"], sectors["Energy"]["losers"]) == (1, 1)
    fx = (await client.get("/api/v1/market/sectors?asset_class=fx")).json()["data"]
    assert [row["sector"] for row in fx] == ["Unclassified"]


async def test_weekend_answers_do_not_move_and_a_forming_session_is_left_out(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await _market(db)
    answers = []
    for today in (SATURDAY, SUNDAY, MONDAY):
        await refresh(db, settings, today)
        answers.append((await client.get("/api/v1/market/summary")).json()["data"])
    assert answers[0] == answers[1] == answers[2]
    # On Friday itself Friday's bar is still forming: Thursday is the last complete session.
    await refresh(db, settings, FRIDAY)
    equity = (await client.get("/api/v1/market/summary?asset_class=equity")).json()["data"][0]
    assert equity["as_of"] == "2024-03-14"
    assert (equity["gainers"], equity["losers"], equity["unchanged"]) == (0, 0, 3)


async def test_minimums_come_from_settings(db: Database, settings: Settings) -> None:
    await _market(db)
    strict = settings.model_copy(update={"market_min_price": 0.1, "market_min_volume": 1_000})
    result = await refresh(db, strict, SATURDAY)
    # PENNY now qualifies; FLAT (100) and EURUSD (0) trade too little.
    assert result.qualifying == 3


async def test_a_second_refresh_replaces_the_figures(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    """On PostgreSQL the second refresh is CONCURRENTLY (it needs the views' unique indexes)."""
    await _market(db)
    await refresh(db, settings, SATURDAY)
    await add_daily(db, "NEW", FRIDAY, [10, 11], volume=50_000, sector="Utilities")
    await refresh(db, settings, SATURDAY)
    await refresh(db, settings, SATURDAY)
    equity = (await client.get("/api/v1/market/summary?asset_class=equity")).json()["data"][0]
    assert (equity["instruments"], equity["gainers"]) == (4, 2)
    active = (await client.get("/api/v1/market/movers?kind=active&limit=1")).json()["data"]
    assert active[0]["symbol"] == "NEW"


async def test_before_any_refresh_the_answer_says_how_to_get_data(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/market/summary", "/market/movers", "/market/sectors"):
        response = await client.get(f"/api/v1{path}")
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == []
        assert "market.refresh" in body["meta"]["message"]


async def test_refreshed_but_empty_says_what_is_missing(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await refresh(db, settings, SATURDAY)
    body = (await client.get("/api/v1/market/movers")).json()
    assert body["data"] == [] and "No instrument qualifies" in body["meta"]["message"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/market/movers?kind=best", "kind"),
        ("/market/movers?limit=0", "limit"),
        ("/market/movers?limit=101", "limit"),
        ("/market/summary?asset_class=stocks", "asset_class"),
        ("/market/sectors?asset_class=x", "asset_class"),
    ],
)
async def test_bad_query_is_a_422_naming_the_field(
    client: httpx.AsyncClient, query: str, field: str
) -> None:
    response = await client.get(f"/api/v1{query}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["loc"][-1] for error in response.json()["errors"]] == [field]
