"""The proof: the paper desk agrees with the backtest engines.

A trading client runs the long-only SMA(10)/SMA(20) crossover with a fixed 100 shares through
the real app - lifespan running, the desk consuming the in-process bus - on a paused replay of
the demo GOOG daily series that an admin steps one bar at a time (POST /admin/replay/step
answers once the desk has processed the bar). After each step the client computes the
crossover on the closes it has seen (`crossover_signal`, backtesting.py's arithmetic) and
places a market order of 100 shares: a buy on a cross up when it holds nothing, a sell of the
100 on a cross down when it holds them. Slippage, fees and the volume cap are off.

backtesting.py (`buy(size=100)`, next-open fills, commission 0, `finalize_trades=False`: a
trade still open after the last bar is marked to the last close) and quantdesk's own engine
(`sizing="fixed"`, `size=100`) run on the same bars. All three make the same trades - entry
and exit bar times and prices, sizes - and end with the same equity to the cent; afterwards
the desk's ledger verifies clean.

Why the desk fills where backtesting.py does: the order placed after the step that delivered
bar t carries bar t's clock seq (`accepted_seq`), so it is first eligible on bar t+1 and a
market order fills at bar t+1's open - backtesting.py's fill of a signal seen at bar t's close.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from quantdesk.access.scopes import Role
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.engine.backtest import BacktestConfig, SmaCross, run_backtest
from quantdesk.kit.app_state import app_state
from quantdesk.marketdata.service import bar_service, instrument_service
from quantdesk.models.portfolio import OrderSide, PaperFill, PaperOrder
from tests.support.accounts import bearer, create_user, login
from tests.support.backtests import GOOG
from tests.support.backtests import goog_frame as goog_bar_frame
from tests.support.crossover_reference import (
    ReferenceResult,
    crossover_signal,
    goog_frame,
    run_fixed_size_crossover,
)
from tests.support.paper import account_url, assert_ledger_clean, dec, trader
from tests.support.paper_desk import FRICTIONLESS
from tests.support.settings import make_settings

REPLAY = "/api/v1/admin/replay"
SIZE = 100
CASH = "100000.00"
CENT = Decimal("0.01")
# Replayed window: from 2011-01-01 to the end of the series (543 bars: 11 round trips and a
# trade still open). The whole series (2,148 bars, 46 round trips and an open trade,
# QUANTDESK_PROOF_START=2004-01-01) agrees too, but takes ~2 minutes per database on a loaded
# 2-core machine (55-120 ms a step through HTTP, the desk's transaction and the audit row).
START = os.environ.get("QUANTDESK_PROOF_START", "2011-01-01")
END: str | None = None


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The client places ~100 orders in well under a minute: the per-account order rate
    limit (60/minute, tested in test_orders_limits) is not what this test is about."""
    return make_settings(database_url, rate_limit_enabled=False)


@dataclass(frozen=True)
class DeskTrade:
    """A round trip (or the open trade) read from the desk's fills."""

    size: Decimal
    entry_time: pd.Timestamp
    entry_price: Decimal
    exit_time: pd.Timestamp | None
    exit_price: Decimal | None


def _price(value: float) -> Decimal:
    """A bar's float price as the desk books it (design: Decimal(repr(x)), 8 decimals)."""
    return Decimal(repr(value)).quantize(Decimal("1e-8"))


def _window(frame: pd.DataFrame) -> pd.DataFrame:
    start = pd.Timestamp(START)
    chosen = frame[frame.index >= start]
    return chosen if END is None else chosen[chosen.index <= pd.Timestamp(END)]


async def _store_goog(db: Database) -> None:
    """GOOG daily stored the way `quantdesk demo load` stores it."""
    async with db.session() as session:
        await instrument_service.upsert(session, GOOG.instrument)
        frame = goog_bar_frame()
        await bar_service.ingest(session, symbol="GOOG", timeframe=GOOG.timeframe, frame=frame)


async def _held(client: httpx.AsyncClient, headers: dict[str, str], url: str) -> Decimal:
    """The client's GOOG quantity, as the desk reports it."""
    response = await client.get(f"{url}/positions", headers=headers)
    assert response.status_code == 200, response.text
    return sum(
        (dec(p["qty"]) for p in response.json()["data"] if p["symbol"] == "GOOG"), Decimal(0)
    )


async def _trade_through_the_desk(
    client: httpx.AsyncClient, admin: dict[str, str], headers: dict[str, str], url: str
) -> tuple[int, list[str]]:
    """Step the replay bar by bar, trading the crossover; (bars stepped, order ids)."""
    body: dict[str, Any] = {
        "symbol": "GOOG", "timeframe": "1d", "start": START, "end": END, "paused": True,
    }  # fmt: skip
    started = await client.post(REPLAY, json=body, headers=admin)
    assert started.status_code == 201, started.text
    total = started.json()["bars_total"]
    closes: list[float] = []
    orders: list[str] = []
    while len(closes) < total:
        step = await client.post(f"{REPLAY}/step", json={"bars": 1}, headers=admin)
        assert step.status_code == 200, step.text
        [bar] = step.json()["bars"]
        closes.append(bar["close"])
        signal = crossover_signal(closes, 10, 20)
        side = "buy" if signal.cross_up else "sell" if signal.cross_down else None
        if side is None:
            continue
        held = await _held(client, headers, url)
        if (side == "buy" and held == 0) or (side == "sell" and held == SIZE):
            order = {"symbol": "GOOG", "side": side, "type": "market", "qty": str(SIZE)}
            placed = await client.post(f"{url}/orders", json=order, headers=headers)
            assert placed.status_code == 201, placed.text
            orders.append(placed.json()["id"])
    stopped = await client.delete(REPLAY, headers=admin)
    assert stopped.status_code == 200, stopped.text
    return len(closes), orders


async def _desk_trades(db: Database, account_id: str) -> list[DeskTrade]:
    """The account's fills, in market order, paired into round trips (buy then sell)."""
    async with db.session() as session:
        fills = list(
            await session.scalars(
                select(PaperFill)
                .where(PaperFill.account_id == account_id)
                .order_by(PaperFill.market_ts, PaperFill.event_seq)
            )
        )
    trades: list[DeskTrade] = []
    entry: PaperFill | None = None
    for fill in fills:
        assert fill.qty == SIZE and fill.fee == 0, (fill.qty, fill.fee)
        when = pd.Timestamp(fill.market_ts, unit="s")
        if fill.side is OrderSide.BUY:
            assert entry is None, "long-only: one trade at a time"
            entry = fill
            continue
        assert entry is not None, "a sell without a position"
        entry_time = pd.Timestamp(entry.market_ts, unit="s")
        trades.append(DeskTrade(entry.qty, entry_time, entry.price, when, fill.price))
        entry = None
    if entry is not None:
        entry_time = pd.Timestamp(entry.market_ts, unit="s")
        trades.append(DeskTrade(entry.qty, entry_time, entry.price, None, None))
    return trades


async def assert_fills_on_the_bar_after_acceptance(
    db: Database, account_id: str, bar_times: list[int]
) -> None:
    """Each fill happened on the market event right after the one its order was accepted
    at (event_seq = accepted_seq + 1), i.e. at the open of the bar after the bar whose close
    the client's signal saw."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(PaperOrder, PaperFill)
                .join(PaperFill, PaperFill.order_id == PaperOrder.id)
                .where(PaperOrder.account_id == account_id)
            )
        ).all()
    assert rows
    for order, fill in rows:
        assert fill.event_seq == order.accepted_seq + 1
        assert order.accepted_market_ts is not None
        after = bar_times[bar_times.index(order.accepted_market_ts) + 1]
        assert fill.market_ts == after


def _reference_trades(reference: ReferenceResult) -> list[DeskTrade]:
    trades = [
        DeskTrade(
            Decimal(t.size),
            t.entry_time,
            _price(t.entry_price),
            t.exit_time,
            None if t.exit_price is None else _price(t.exit_price),
        )
        for t in reference.trades
    ]
    if reference.open_trade is not None:
        t = reference.open_trade
        trades.append(DeskTrade(Decimal(t.size), t.entry_time, _price(t.entry_price), None, None))
    return trades


def _engine_trades(frame: pd.DataFrame) -> tuple[list[DeskTrade], float]:
    """quantdesk's backtest engine, fixed size 100, on the same bars: trades, final equity."""
    config = BacktestConfig(cash=float(CASH), commission=0.0, sizing="fixed", size=float(SIZE))
    result = run_backtest(
        frame.Open, frame.High, frame.Low, frame.Close,
        strategy=SmaCross(10, 20), config=config,
    )  # fmt: skip
    index = frame.index
    trades = [
        DeskTrade(
            Decimal(int(units)),
            pd.Timestamp(index[entry]),
            _price(float(entry_price)),
            pd.Timestamp(index[exit_]),
            _price(float(exit_price)),
        )
        for units, entry, entry_price, exit_, exit_price in zip(
            result.trades.units,
            result.trades.entry_bar,
            result.trades.entry_price,
            result.trades.exit_bar,
            result.trades.exit_price,
            strict=True,
        )
    ]
    if (position := result.open_position) is not None:
        trades.append(
            DeskTrade(
                Decimal(int(position.units)),
                pd.Timestamp(index[position.entry_bar]),
                _price(float(position.entry_price)),
                None,
                None,
            )
        )
    final = result.stats["equity_final"]
    assert isinstance(final, float)
    return trades, final


async def test_the_desk_trades_the_crossover_like_backtesting_py_and_the_engine(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    await _store_goog(db)
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    headers = await trader(client, db)
    url, account = await account_url(client, headers, starting_cash=CASH, fill_model=FRICTIONLESS)

    stepped, orders = await _trade_through_the_desk(client, admin, headers, url)

    frame = _window(goog_frame())
    assert stepped == len(frame)
    reference = run_fixed_size_crossover(frame, size=SIZE, cash=float(CASH), commission=0.0)
    assert reference.canceled_bars == ()  # the cash pays for every entry on every side
    assert len(reference.trades) >= 10

    bar_times = [int(pd.Timestamp(t).value // 10**9) for t in frame.index]
    await assert_fills_on_the_bar_after_acceptance(db, account["id"], bar_times)
    desk_trades = await _desk_trades(db, account["id"])
    expected = _reference_trades(reference)
    assert desk_trades == expected
    engine_trades, engine_final = _engine_trades(frame)
    assert engine_trades == expected

    # Every order the client placed filled (no signal on the last bar, which backtesting.py
    # would never fill either).
    statuses = [
        (await client.get(f"{url}/orders/{order_id}", headers=headers)).json()["status"]
        for order_id in orders
    ]
    assert statuses == ["filled"] * (2 * len(reference.trades) + (reference.open_trade is not None))

    # Final equity: cash + 100 x the last close while the last trade is open, exactly the
    # sum of the trades' P&L in Decimal; backtesting.py and the engine agree to the cent.
    last_close = _price(float(frame.Close.iloc[-1]))
    pnl = sum(((t.exit_price or last_close) - t.entry_price) * t.size for t in desk_trades)
    read = (await client.get(url, headers=headers)).json()
    equity = dec(read["equity"])
    assert equity == Decimal(CASH) + pnl
    assert dec(read["held"]) == 0
    assert await _held(client, headers, url) == SIZE * (reference.open_trade is not None)
    assert equity.quantize(CENT) == Decimal(repr(reference.final_equity)).quantize(CENT)
    assert equity.quantize(CENT) == Decimal(repr(engine_final)).quantize(CENT)
    summary = (await client.get(f"{url}/summary", headers=headers)).json()
    assert dec(summary["equity"]) == equity

    desk = app_state(app).desk
    assert desk is not None and desk.failed == 0
    await assert_ledger_clean(db)
