"""Fixed-size sizing (``sizing="fixed"``): ``size`` units per entry, backtesting.py's
``buy(size=...)`` - filled whole at the next open or canceled when the cash cannot pay
for it - checked on small tables and trade by trade against backtesting.py on GOOG."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.engine.backtest import BacktestConfig, BacktestResult, SmaCross, run_backtest
from tests.support.crossover_reference import (
    ReferenceResult,
    crossover_signal,
    goog_frame,
    run_fixed_size_crossover,
)

PRICES = np.full(6, 100.0)
LONG = np.array([0, 1, 1, 1, 1, 1])


def fixed(size: float, **settings: float) -> BacktestConfig:
    return BacktestConfig(sizing="fixed", size=size, **settings)  # type: ignore[arg-type]


def test_entry_trades_exactly_size_units() -> None:
    config = fixed(7, cash=10_000.0, commission=0.001)
    result = run_backtest(PRICES, PRICES, PRICES, PRICES, signal=LONG, config=config)
    assert result.open_position is not None
    assert result.open_position.units == 7.0
    assert result.open_position.entry_bar == 2  # long from bar 1's close
    assert result.open_position.entry_commission == pytest.approx(7 * 100 * 0.001)


def test_fractional_size_is_traded_as_given() -> None:
    config = fixed(0.25, cash=10_000.0)
    result = run_backtest(PRICES, PRICES, PRICES, PRICES, signal=LONG, config=config)
    assert result.open_position is not None
    assert result.open_position.units == 0.25


@pytest.mark.parametrize(
    ("cash", "filled"),
    [
        (10_000.0, True),  # 100 * 100 costs exactly the cash: filled
        (9_999.99, False),  # a cent short: canceled, not shrunk to 99 units
    ],
)
def test_entry_the_cash_cannot_pay_for_is_canceled(cash: float, filled: bool) -> None:
    result = run_backtest(PRICES, PRICES, PRICES, PRICES, signal=LONG, config=fixed(100, cash=cash))
    if filled:
        assert result.open_position is not None
        assert result.open_position.units == 100.0
    else:
        assert result.open_position is None
        assert len(result.trades) == 0
        assert result.stats["equity_final"] == cash


def test_commission_counts_towards_the_cost_of_an_entry() -> None:
    # 100 units at 100 plus 0.1 % commission cost 10,010.
    for cash, expected in ((10_009.99, None), (10_010.0, 100.0)):
        config = fixed(100, cash=cash, commission=0.001)
        result = run_backtest(PRICES, PRICES, PRICES, PRICES, signal=LONG, config=config)
        units = None if result.open_position is None else result.open_position.units
        assert units == expected


def test_canceled_entry_is_not_retried_until_the_next_signal() -> None:
    # Long at bar 0's close: canceled at bar 1 (price 200); the cash would pay at bar 2's
    # price, but the order is gone. The next change of target (flat, then long again)
    # enters at bar 5.
    prices = np.array([150.0, 200.0, 90.0, 90.0, 90.0, 90.0, 90.0])
    signal = np.array([1, 1, 1, 0, 1, 1, 1])
    result = run_backtest(
        prices, prices, prices, prices, signal=signal, config=fixed(100, cash=10_000.0)
    )
    assert len(result.trades) == 0
    assert result.open_position is not None
    assert result.open_position.entry_bar == 5
    assert result.open_position.units == 100.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sizing": "fixed"}, "size is required"),
        ({"sizing": "fixed", "size": 0.0}, "size must be"),
        ({"sizing": "fixed", "size": float("inf")}, "size must be"),
        ({"sizing": "all_in", "size": 10.0}, "size applies only"),
    ],
)
def test_invalid_fixed_sizing_is_rejected(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BacktestConfig(**settings)  # type: ignore[arg-type]


# --- against backtesting.py on the demo GOOG series -------------------------------------

CASES = [
    pytest.param(100_000.0, 0.0, id="cash-100k-no-commission"),
    pytest.param(100_000.0, 0.002, id="cash-100k-commission-0.2%"),
    # One entry (bar 830) costs more than the cash: backtesting.py cancels it.
    pytest.param(30_000.0, 0.002, id="cash-30k-one-entry-canceled"),
    # Most entries are canceled once GOOG trades above 200.
    pytest.param(20_000.0, 0.001, id="cash-20k-most-entries-canceled"),
]


def ours(cash: float, commission: float) -> BacktestResult:
    frame = goog_frame()
    config = fixed(100, cash=cash, commission=commission)
    return run_backtest(
        frame.Open, frame.High, frame.Low, frame.Close,
        strategy=SmaCross(10, 20), config=config,
    )  # fmt: skip


def assert_same_trades(result: BacktestResult, reference: ReferenceResult) -> None:
    trades = result.trades
    assert len(trades) == len(reference.trades)
    assert trades.entry_bar.tolist() == [t.entry_bar for t in reference.trades]
    assert trades.exit_bar.tolist() == [t.exit_bar for t in reference.trades]
    assert trades.units.tolist() == [t.size for t in reference.trades]
    assert trades.entry_price.tolist() == [t.entry_price for t in reference.trades]
    assert trades.exit_price.tolist() == [t.exit_price for t in reference.trades]
    np.testing.assert_allclose(trades.pnl, [t.pnl for t in reference.trades], rtol=1e-12)
    np.testing.assert_allclose(
        trades.commission, [t.commission for t in reference.trades], rtol=1e-12
    )
    position, open_trade = result.open_position, reference.open_trade
    assert (position is None) == (open_trade is None)
    if position is not None and open_trade is not None:
        assert (position.entry_bar, position.units) == (open_trade.entry_bar, open_trade.size)
        assert position.entry_price == open_trade.entry_price


@pytest.mark.parametrize(("cash", "commission"), CASES)
def test_goog_crossover_matches_backtesting_py_buy_size_100(cash: float, commission: float) -> None:
    reference = run_fixed_size_crossover(goog_frame(), cash=cash, commission=commission)
    result = ours(cash, commission)

    assert len(reference.trades) > 5
    assert_same_trades(result, reference)
    final = result.stats["equity_final"]
    assert isinstance(final, float)
    assert round(final, 2) == round(reference.final_equity, 2)
    assert final == pytest.approx(reference.final_equity, rel=1e-12)


def test_cases_cover_canceled_entries() -> None:
    """The small-cash cases do exercise the cancel rule (else they prove nothing)."""
    frame = goog_frame()
    assert run_fixed_size_crossover(frame, cash=100_000.0).canceled_bars == ()
    assert run_fixed_size_crossover(frame, cash=30_000.0, commission=0.002).canceled_bars == (830,)
    assert len(run_fixed_size_crossover(frame, cash=20_000.0, commission=0.001).canceled_bars) > 10


def test_bar_by_bar_client_signal_drives_the_same_trades() -> None:
    """``crossover_signal`` seen after each close, orders filled at the next open: the
    trades backtesting.py makes (what a client of the paper desk will do)."""
    frame = goog_frame()
    opens, closes = frame.Open.to_numpy(), frame.Close.to_numpy()
    size, cash = 100, 100_000.0
    trades: list[tuple[int, int]] = []
    entry: int | None = None
    pending: str | None = None
    for t in range(len(frame)):
        if pending == "buy" and size * opens[t] <= cash:
            entry, cash = t, cash - size * opens[t]
        elif pending == "sell" and entry is not None:
            trades.append((entry, t))
            cash += size * opens[t]
            entry = None
        signal = crossover_signal(closes[: t + 1], 10, 20)
        assert not (signal.cross_up and signal.cross_down)
        pending = "buy" if signal.cross_up and entry is None else None
        pending = "sell" if signal.cross_down else pending

    reference = run_fixed_size_crossover(frame, cash=100_000.0)
    assert trades == [(t.entry_bar, t.exit_bar) for t in reference.trades]
    assert reference.open_trade is not None
    assert entry == reference.open_trade.entry_bar
    final = cash + size * closes[-1]
    assert round(final, 2) == round(reference.final_equity, 2)
