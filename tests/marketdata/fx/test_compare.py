"""GET /fx/compare and the source choice of GET /fx/rates over stored ECB and BAM rows."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.db import Database
from tests.support.fx import ECB_PROVIDER, store_bam, store_ecb
from tests.support.problems import assert_problem

COMPARE = "/api/v1/fx/compare"


@pytest.fixture
async def ecb(db: Database) -> None:
    await store_ecb(db)


@pytest.fixture
async def bam(db: Database) -> None:
    await store_bam(db)


@pytest.mark.usefixtures("ecb", "bam")
async def test_usd_mad_every_source_spread_best_prices_and_the_cross_check(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(COMPARE, params={"pair": "USD/MAD"})
    assert response.status_code == 200, response.text
    body = response.json()
    data = body["data"]
    assert data["pair"] == "USD/MAD"
    assert data["sources"] == [
        {
            "source": "bam",
            "provider": "bam",
            "as_of": "2026-10-30",
            "mid": 9.74,
            "buy": 8.9621,
            "sell": 10.1094,
            "spread_bps": pytest.approx(1203.16, abs=0.01),
            "route": "direct",
        }
    ]
    assert data["best_buy"] == {"source": "bam", "rate": 10.1094, "as_of": "2026-10-30"}
    assert data["best_sell"] == {"source": "bam", "rate": 8.9621, "as_of": "2026-10-30"}
    assert data["spread_bps"] == pytest.approx(1203.16, abs=0.01)
    # BAM's EUR/MAD / USD/MAD = 10.8813 / 9.74 = 1.1171766 against the ECB's 1.1172.
    [check] = data["implied_cross_check"]
    assert check["source"] == "bam" and check["via"] == "MAD"
    assert check["implied_eur_usd"] == pytest.approx(10.8813 / 9.74)
    assert check["ecb_eur_usd"] == 1.1172 and check["ecb_as_of"] == "2026-10-30"
    assert check["diff_bps"] == pytest.approx((10.8813 / 9.74 - 1.1172) / 1.1172 * 1e4, abs=0.01)
    assert data["reference"] == [
        {"pair": "EUR/USD", "rate": 1.1172, "as_of": "2026-10-30", "provider": ECB_PROVIDER}
    ]
    assert data["notes"] == ["MAD is not an ECB reference currency"]
    assert body["meta"] == {"provider": f"bam,{ECB_PROVIDER}", "as_of": "2026-10-30"}


@pytest.mark.usefixtures("ecb")
async def test_without_bam_the_answer_shows_the_ecb_rates_and_says_how_to_get_mad(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(COMPARE, params={"pair": "usd-mad"})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["sources"] == [] and data["best_buy"] is None and data["spread_bps"] is None
    assert [ref["pair"] for ref in data["reference"]] == ["EUR/USD"]
    [mad, none] = data["notes"]
    assert mad.startswith("MAD is not an ECB reference currency")
    assert "QUANTDESK_BAM_API_KEY" in mad and "fx.fetch_bam" in mad
    assert "no stored source quotes USD/MAD" in none


async def test_with_nothing_stored_the_answer_says_how_to_load_rates(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(COMPARE, params={"pair": "EUR/USD"})
    assert response.status_code == 200, response.text
    notes = response.json()["data"]["notes"]
    assert any("quantdesk demo load" in note and "fx.fetch_rates" in note for note in notes)


@pytest.mark.usefixtures("ecb", "bam")
async def test_an_ecb_cross_goes_through_eur_and_a_date_picks_that_days_rates(
    client: httpx.AsyncClient,
) -> None:
    latest = (await client.get(COMPARE, params={"pair": "USD/JPY"})).json()["data"]
    by_source = {row["source"]: row for row in latest["sources"]}
    assert by_source["ecb"]["route"] == "via EUR"
    assert by_source["ecb"]["mid"] == pytest.approx(175.68 / 1.1172)
    # BAM's mid crossed through MAD; banknote buy/sell are never crossed.
    assert by_source["bam"]["route"] == "via MAD"
    assert by_source["bam"]["mid"] == pytest.approx(9.74 / 0.063528)
    assert by_source["bam"]["buy"] is None and by_source["bam"]["sell"] is None
    assert latest["mid_dispersion_bps"] is not None
    earlier = await client.get(COMPARE, params={"pair": "USD/JPY", "date": "2026-10-29"})
    [ecb] = earlier.json()["data"]["sources"]  # BAM published nothing on or before the 29th
    assert ecb["as_of"] == "2026-10-29" and ecb["mid"] == pytest.approx(175.32 / 1.1161)


async def test_bad_pairs_and_dates_are_422_naming_the_field(client: httpx.AsyncClient) -> None:
    same = (await client.get(COMPARE, params={"pair": "USD/USD"})).json()["data"]
    assert same["sources"] == [] and same["notes"] == ["USD/USD is one currency: the rate is 1"]
    for params, field in (
        ({"pair": "USDMADX"}, "query.pair"),
        ({}, "query.pair"),
        ({"pair": "USD/MAD", "date": "30-10-2026"}, "query.date"),
    ):
        body = assert_problem(await client.get(COMPARE, params=params), 422)
        assert field in [error["field"] for error in body["errors"]], body  # type: ignore[attr-defined]


@pytest.mark.usefixtures("ecb", "bam")
async def test_fx_rates_serves_the_reference_table_unless_a_source_is_asked(
    client: httpx.AsyncClient,
) -> None:
    # BAM stored EUR/MAD on the same day: the ECB's table (four currencies) is still served.
    default = (await client.get("/api/v1/fx/rates", params={"base": "EUR"})).json()
    assert default["data"]["rates"] == {"GBP": 0.8338, "JPY": 175.68, "USD": 1.1172, "ZAR": 18.6455}
    assert default["meta"]["provider"] == ECB_PROVIDER
    bam = (await client.get("/api/v1/fx/rates", params={"base": "EUR", "source": "bam"})).json()
    assert bam["data"] == {"base": "EUR", "date": "2026-10-30", "rates": {"MAD": 10.8813}}
    usd = (await client.get("/api/v1/fx/rates", params={"base": "USD"})).json()
    assert usd["data"]["rates"] == {"MAD": 9.74}
    missing = await client.get("/api/v1/fx/rates", params={"base": "EUR", "source": "fred"})
    assert_problem(missing, 404)
