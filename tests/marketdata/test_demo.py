"""The demo loads the genuine series shipped inside the `backtesting` package."""

from __future__ import annotations

from importlib.resources import files

import httpx
import pandas as pd
import pytest

from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.marketdata.service import IngestResult

EXPECTED = {
    "GOOG": ("GOOG.csv", "1d", "equity", "NASDAQ"),
    "EURUSD": ("EURUSD.csv", "1h", "fx", "FOREX"),
    "BTCUSD": ("BTCUSD.csv", "1M", "crypto", "CRYPTO"),
}


async def test_demo_loads_every_bundled_series_once(
    db: Database, client: httpx.AsyncClient
) -> None:
    async with db.session() as session:
        first = await load_demo(session)
    assert all(isinstance(outcome, IngestResult) for outcome in first)
    async with db.session() as session:
        second = await load_demo(session)
    assert all(isinstance(outcome, str) and "already loaded" in outcome for outcome in second)

    for symbol, (resource, timeframe, asset_class, exchange) in EXPECTED.items():
        source = pd.read_csv(
            str(files("backtesting.test") / resource), index_col=0, parse_dates=True
        )
        detail = (await client.get(f"/api/v1/instruments/{symbol}")).json()["data"]
        assert (detail["asset_class"], detail["exchange"]) == (asset_class, exchange)
        (coverage,) = detail["coverage"]
        assert coverage["timeframe"] == timeframe and coverage["bars"] == len(source)
        first = source.index[0]
        if timeframe == "1M":  # stamped at the month's start (the file: at its last day)
            assert first.day > 1
            first = first.replace(day=1)
        assert coverage["first"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
        bars = (await client.get(f"/api/v1/bars/{symbol}?timeframe={timeframe}&limit=1")).json()[
            "data"
        ]
        assert bars[0]["close"] == pytest.approx(float(source.Close.iloc[-1]))
        quote = (await client.get(f"/api/v1/quotes/{symbol}")).json()["data"]
        assert quote["price"] == pytest.approx(float(source.Close.iloc[-1]))
