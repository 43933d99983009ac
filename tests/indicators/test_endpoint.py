"""GET /indicators: values equal TA-Lib over the full history, whatever window is asked."""

from __future__ import annotations

from importlib.resources import files

import httpx
import numpy as np
import pandas as pd
import pytest
import talib

from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from tests.support.problems import assert_problem


@pytest.fixture
async def goog(db: Database) -> pd.DataFrame:
    async with db.session() as session:
        await load_demo(session)
    return pd.read_csv(str(files("backtesting.test") / "GOOG.csv"), index_col=0, parse_dates=True)


def _values(column: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in column], dtype=np.float64)


@pytest.mark.parametrize("window", ["latest", "start"])
async def test_indicators_match_talib_over_full_history(
    client: httpx.AsyncClient, goog: pd.DataFrame, window: str
) -> None:
    close = goog.Close.to_numpy(dtype=np.float64)
    query = "set=rsi:14,macd:12:26:9,bbands:20:2&limit=300"
    if window == "start":
        query += "&start=2010-01-04"
    response = await client.get(f"/api/v1/indicators/GOOG?{query}")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    times = pd.to_datetime(data["t"]).tz_localize(None)
    positions = goog.index.get_indexer(times)
    assert (positions >= 0).all() and len(positions) == 300
    macd, signal, _ = talib.MACD(close, 12, 26, 9)
    upper, _, _ = talib.BBANDS(close, 20, 2.0, 2.0)
    # Recursive indicators converge: with 10x the period of warm-up history the windowed
    # values agree with the full-history reference to well below a cent.
    np.testing.assert_allclose(_values(data["rsi_14"]), talib.RSI(close, 14)[positions], rtol=1e-9)
    np.testing.assert_allclose(_values(data["macd_12_26_9"]), macd[positions], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        _values(data["macd_signal_12_26_9"]), signal[positions], rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(_values(data["bbands_upper_20_2"]), upper[positions], rtol=1e-9)


async def test_warmup_at_the_start_of_history_is_null(
    client: httpx.AsyncClient, goog: pd.DataFrame
) -> None:
    data = (await client.get("/api/v1/indicators/GOOG?set=sma:5&start=2004-01-01&limit=10")).json()[
        "data"
    ]
    assert data["sma_5"][:4] == [None] * 4 and data["sma_5"][4] == pytest.approx(
        goog.Close.iloc[:5].mean()
    )


@pytest.mark.parametrize("bad", ["nope:3", "rsi:0", "macd:26:12:9", "rsi:a"])
async def test_bad_indicator_sets_are_422(
    client: httpx.AsyncClient, goog: pd.DataFrame, bad: str
) -> None:
    body = assert_problem(await client.get(f"/api/v1/indicators/GOOG?set={bad}"), 422)
    assert body["errors"][0]["loc"] == ["query", "set"]  # type: ignore[index]
