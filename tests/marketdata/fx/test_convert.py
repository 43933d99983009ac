"""GET /fx/convert: direct, inverted, through EUR, through USD; Decimal strings; the path and
each leg's day and source; 404 saying how to get rates; 422 naming the field."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from quantdesk.db import Database
from quantdesk.marketdata.providers.base import FxRates
from quantdesk.marketdata.reference.service import fx_rate_service
from tests.support.fx import ECB_PROVIDER, store_bam, store_ecb
from tests.support.problems import assert_problem

CONVERT = "/api/v1/fx/convert"


@pytest.fixture
async def stored(db: Database) -> None:
    await store_ecb(db)
    await store_bam(db)


async def _convert(client: httpx.AsyncClient, **params: str) -> dict[str, object]:
    response = await client.get(CONVERT, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


@pytest.mark.usefixtures("stored")
async def test_through_eur_with_decimal_strings_and_each_leg(client: httpx.AsyncClient) -> None:
    body = await _convert(client, **{"from": "usd", "to": "JPY", "amount": "1250.50"})
    data = body["data"]
    assert isinstance(data, dict)
    expected = (Decimal("1250.50") / Decimal("1.1172") * Decimal("175.68")).quantize(
        Decimal("0.000001")
    )
    assert data["from"] == "USD" and data["to"] == "JPY" and data["amount"] == "1250.5"
    assert data["converted"] == str(expected)
    assert data["route"] == "via EUR"
    assert [
        (leg["pair"], leg["published_pair"], leg["inverted"], leg["as_of"], leg["source"])
        for leg in data["legs"]
    ] == [
        ("USD/EUR", "EUR/USD", True, "2026-10-30", "ecb"),
        ("EUR/JPY", "EUR/JPY", False, "2026-10-30", "ecb"),
    ]
    assert data["legs"][1]["rate"] == "175.68" and data["legs"][0]["published_rate"] == "1.1172"
    assert body["meta"] == {"provider": ECB_PROVIDER, "as_of": "2026-10-30"}


@pytest.mark.usefixtures("stored")
async def test_direct_inverted_and_mixed_sources(client: httpx.AsyncClient) -> None:
    direct = (await _convert(client, **{"from": "USD", "to": "MAD", "amount": "100"}))["data"]
    assert isinstance(direct, dict)
    assert direct["route"] == "direct" and direct["converted"] == "974.000000"
    assert direct["rate"] == "9.74" and direct["legs"][0]["source"] == "bam"
    inverted = (await _convert(client, **{"from": "MAD", "to": "USD", "amount": "974"}))["data"]
    assert isinstance(inverted, dict)
    assert inverted["route"] == "direct" and inverted["legs"][0]["inverted"] is True
    assert inverted["converted"] == "100.000000"
    # MAD -> ZAR: BAM's EUR/MAD inverted, then the ECB's EUR/ZAR.
    mixed = (await _convert(client, **{"from": "MAD", "to": "ZAR", "amount": "1000"}))["data"]
    assert isinstance(mixed, dict)
    assert mixed["route"] == "via EUR"
    assert [leg["source"] for leg in mixed["legs"]] == ["bam", "ecb"]
    expected = (Decimal(1000) / Decimal("10.8813") * Decimal("18.6455")).quantize(
        Decimal("0.000001")
    )
    assert mixed["converted"] == str(expected)
    same = (await _convert(client, **{"from": "EUR", "to": "EUR", "amount": "5"}))["data"]
    assert isinstance(same, dict)
    assert same["route"] == "identity" and same["converted"] == "5"


async def test_through_usd_when_eur_has_no_leg(db: Database, client: httpx.AsyncClient) -> None:
    async with db.session() as session:
        for quote, rate in (("CAD", 1.3871), ("MXN", 18.91)):
            await fx_rate_service.store(
                session, rates=FxRates("USD", 1_761_782_400, {quote: rate}), provider="boc"
            )
    data = (await _convert(client, **{"from": "CAD", "to": "MXN", "amount": "10"}))["data"]
    assert isinstance(data, dict)
    assert data["route"] == "via USD"
    assert data["converted"] == str(
        (Decimal(10) / Decimal("1.3871") * Decimal("18.91")).quantize(Decimal("0.000001"))
    )


@pytest.mark.usefixtures("stored")
async def test_a_date_uses_the_rates_in_force_and_says_when_a_leg_is_old(
    client: httpx.AsyncClient,
) -> None:
    data = (
        await _convert(client, **{"from": "EUR", "to": "USD", "amount": "1", "date": "2026-10-29"})
    )["data"]
    assert isinstance(data, dict)
    assert data["converted"] == "1.116100" and data["legs"][0]["as_of"] == "2026-10-29"
    later = (
        await _convert(client, **{"from": "EUR", "to": "USD", "amount": "1", "date": "2026-12-24"})
    )["data"]
    assert isinstance(later, dict)
    assert later["notes"] == ["EUR/USD is from 2026-10-30, 55 days before 2026-12-24"]


@pytest.mark.usefixtures("stored")
async def test_no_path_is_a_404_saying_how_to_get_rates(client: httpx.AsyncClient) -> None:
    before = await client.get(
        CONVERT, params={"from": "EUR", "to": "USD", "amount": "1", "date": "2020-01-01"}
    )
    body = assert_problem(before, 404)
    assert str(body["type"]).endswith("/fx-path-not-found")
    assert "fx.fetch_rates" in str(body["detail"])
    mad = await client.get(CONVERT, params={"from": "MAD", "to": "XOF", "amount": "1"})
    assert "QUANTDESK_BAM_API_KEY" in str(assert_problem(mad, 404)["detail"])


async def test_bad_input_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    for params, field in (
        ({"from": "EURO", "to": "USD"}, "query.from"),
        ({"from": "EUR"}, "query.to"),
        ({"from": "EUR", "to": "USD", "amount": "-5"}, "query.amount"),
        ({"from": "EUR", "to": "USD", "amount": "abc"}, "query.amount"),
        ({"from": "EUR", "to": "USD", "amount": "NaN"}, "query.amount"),
        ({"from": "EUR", "to": "USD", "amount": "1e3"}, "query.amount"),
        ({"from": "EUR", "to": "USD", "amount": "1.1234567890123"}, "query.amount"),
        ({"from": "EUR", "to": "USD", "date": "2026-13-01"}, "query.date"),
    ):
        body = assert_problem(await client.get(CONVERT, params=params), 422)
        fields = [error["field"] for error in body["errors"]]  # type: ignore[attr-defined]
        assert field in fields, (params, body)
