"""GET /signals/stats: the track record per strategy, symbol and timeframe, aggregated in SQL;
on the demo data right after the backfill, with one settled return checked by hand."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo
from quantdesk.models import SignalDirection, SignalStatus
from quantdesk.signals.demo import backfill_demo_signals
from tests.support.accounts import create_key, create_user, login
from tests.support.problems import assert_problem
from tests.support.signals import create_signal

DAY = 86_400
L, S = SignalDirection.LONG, SignalDirection.SHORT


async def test_stats_without_signals_say_how_to_get_them(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/signals/stats")  # anonymous: read:tickers
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == []
    assert body["meta"]["count"] == body["meta"]["signals"] == 0
    assert "quantdesk signals backfill" in body["meta"]["hint"]
    filtered = (await client.get("/api/v1/signals/stats?symbol=GOOG&timeframe=1d")).json()
    assert "match these filters" in filtered["meta"]["hint"]
    assert_problem(await client.get("/api/v1/signals/stats?timeframe=2d"), 422)


async def test_stats_aggregate_per_strategy_symbol_and_timeframe(
    client: httpx.AsyncClient, db: Database
) -> None:
    # (symbol, strategy, timeframe, direction, status, entry, close_price, bars_held)
    specs = [
        ("AAA", "rsi_reversal", "1d", L, SignalStatus.TARGET_HIT, 100.0, 106.0, 2),
        ("AAA", "rsi_reversal", "1d", S, SignalStatus.STOPPED, 100.0, 103.0, 1),
        ("AAA", "rsi_reversal", "1d", L, SignalStatus.EXPIRED, 100.0, 101.0, 10),
        ("AAA", "rsi_reversal", "1d", L, SignalStatus.ACTIVE, 100.0, None, None),
        ("AAA", "macd_cross", "1d", S, SignalStatus.TARGET_HIT, 50.0, 45.0, 4),
        ("AAA", "rsi_reversal", "1h", L, SignalStatus.ACTIVE, 100.0, None, None),
        ("BBB", "rsi_reversal", "1d", S, SignalStatus.EXPIRED, 20.0, 21.0, 10),
    ]
    for index, (symbol, strategy, tf, direction, status, entry, price, held) in enumerate(specs):
        returns = None
        if price is not None:
            returns = price / entry - 1 if direction is L else 1 - price / entry
        await create_signal(
            db,
            symbol,
            strategy=strategy,
            timeframe=tf,
            direction=direction,
            status=status,
            entry=entry,
            close_price=price,
            bars_held=held,
            settled_return=returns,
            source_ts=1_704_067_200 + index * DAY,
        )
    body = (await client.get("/api/v1/signals/stats")).json()
    rows = {(r["strategy"], r["symbol"], r["timeframe"]): r for r in body["data"]}
    assert list(rows) == [
        ("macd_cross", "AAA", "1d"),
        ("rsi_reversal", "AAA", "1d"),
        ("rsi_reversal", "AAA", "1h"),
        ("rsi_reversal", "BBB", "1d"),
    ]
    assert body["meta"] == {"count": 4, "signals": 7, "hint": None}
    rsi = rows[("rsi_reversal", "AAA", "1d")]
    assert (rsi["count"], rsi["active"], rsi["settled"]) == (4, 1, 3)
    assert (rsi["target_hit"], rsi["stopped"], rsi["expired"]) == (1, 1, 1)
    assert rsi["hit_rate"] == pytest.approx(2 / 3)  # +6 % and +1 % made money, -3 % did not
    assert rsi["avg_return"] == pytest.approx((0.06 - 0.03 + 0.01) / 3)
    assert rsi["avg_bars_held"] == pytest.approx(13 / 3)
    macd = rows[("macd_cross", "AAA", "1d")]
    assert (macd["hit_rate"], macd["avg_return"]) == (1.0, pytest.approx(0.1))  # short 50 -> 45
    hourly = rows[("rsi_reversal", "AAA", "1h")]
    assert (hourly["count"], hourly["settled"], hourly["hit_rate"], hourly["avg_return"]) == (
        1,
        0,
        None,
        None,
    )
    assert rows[("rsi_reversal", "BBB", "1d")]["avg_return"] == pytest.approx(-0.05)

    only = (
        await client.get("/api/v1/signals/stats?symbol=aaa&strategy=rsi_reversal&timeframe=1d")
    ).json()
    assert [(r["strategy"], r["symbol"], r["timeframe"]) for r in only["data"]] == [
        ("rsi_reversal", "AAA", "1d")
    ]


async def test_stats_policy_is_read_tickers(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db, Role.USER))
    reader = await create_key(client, tokens, scopes=["read:tickers"])
    allowed = await client.get("/api/v1/signals/stats", headers={"X-API-Key": str(reader["key"])})
    assert allowed.status_code == 200
    assert allowed.headers["ratelimit-limit"]  # counted against the caller's tier
    computer = await create_key(client, tokens, scopes=["run:backtest"])
    refused = await client.get("/api/v1/signals/stats", headers={"X-API-Key": str(computer["key"])})
    assert "read:tickers" in str(assert_problem(refused, 403)["detail"])


async def test_demo_stats_right_after_the_backfill(client: httpx.AsyncClient, db: Database) -> None:
    async with db.session() as session:
        await load_demo(session)
    async with db.session() as session:
        await backfill_demo_signals(session)

    body = (await client.get("/api/v1/signals/stats")).json()
    assert {r["symbol"] for r in body["data"]} == {"GOOG", "EURUSD", "BTCUSD"}
    assert body["meta"]["signals"] > 0 and body["meta"]["hint"] is None
    for row in body["data"]:
        assert row["count"] > 0
        if row["settled"]:
            assert 0 <= row["hit_rate"] <= 1
            assert 1 <= row["avg_bars_held"] <= 10
            assert row["avg_return"] is not None

    # The historic feed has them too: created at their bar's close, years ago.
    historic = (await client.get("/api/v1/signals/historic?symbol=GOOG&status=expired")).json()
    assert historic["data"], historic
    assert all(item["close_price"] is not None for item in historic["data"])

    # One GOOG signal, its settled return computed by hand from the stored bars.
    listed = await client.get(
        "/api/v1/signals?symbol=GOOG&strategy=sma_cross&status=expired&direction=LONG&limit=500"
    )
    signals = listed.json()["data"]
    assert signals, listed.text
    signal = signals[len(signals) // 2]
    bars = (await client.get("/api/v1/bars/GOOG?timeframe=1d&limit=5000")).json()["data"]
    opened = [bar["ts"] for bar in bars]
    settling = bars[opened.index(signal["source_bar_at"]) + signal["bars_held"]]
    assert signal["bars_held"] == signal["lifetime_bars"] == 10
    assert signal["close_price"] == settling["close"]
    assert signal["settled_return"] == pytest.approx(settling["close"] / signal["entry"] - 1)

    # ... and the stats row of that strategy is the mean of its signals' returns.
    all_goog_sma = (
        await client.get("/api/v1/signals?symbol=GOOG&strategy=sma_cross&limit=500")
    ).json()["data"]
    returns = [s["settled_return"] for s in all_goog_sma if s["settled_return"] is not None]
    (row,) = (await client.get("/api/v1/signals/stats?symbol=GOOG&strategy=sma_cross")).json()[
        "data"
    ]
    assert (row["count"], row["settled"]) == (len(all_goog_sma), len(returns))
    assert row["avg_return"] == pytest.approx(sum(returns) / len(returns))
    assert row["hit_rate"] == pytest.approx(sum(r > 0 for r in returns) / len(returns))
