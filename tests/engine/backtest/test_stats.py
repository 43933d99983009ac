"""Statistics definitions on hand-checkable equity curves and trade lists."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from quantdesk.engine.backtest import (
    BacktestConfig,
    Bars,
    OpenPosition,
    Simulation,
    Trades,
    compute_stats,
    run_backtest,
)
from quantdesk.engine.backtest.stats import StatsReport


def trades_from(pnl: list[float], bars: list[tuple[int, int]] | None = None) -> Trades:
    count = len(pnl)
    spans = bars or [(k * 2, k * 2 + 1) for k in range(count)]
    entry = np.array([s[0] for s in spans], dtype=np.int64)
    exit_ = np.array([s[1] for s in spans], dtype=np.int64)
    units = np.full(count, 10.0)
    entry_price = np.full(count, 100.0)
    profit = np.array(pnl, dtype=np.float64)
    return Trades(
        entry_bar=entry,
        exit_bar=exit_,
        units=units,
        entry_price=entry_price,
        exit_price=entry_price + profit / units,
        commission=np.full(count, 1.0),
        pnl=profit,
        return_pct=profit / (units * entry_price) * 100,
        exit_reason=np.zeros(count, dtype=np.int8),
    )


def report(
    equity: list[float],
    pnl: list[float] | None = None,
    *,
    spans: list[tuple[int, int]] | None = None,
    position: OpenPosition | None = None,
    ts: list[int] | None = None,
    **config: Any,
) -> StatsReport:
    curve = np.array(equity, dtype=np.float64)
    close = np.linspace(100.0, 110.0, curve.size)
    bars = Bars.of(close, close, close, close, ts=ts)
    sim = Simulation(equity=curve, trades=trades_from(pnl or [], spans), open_position=position)
    return compute_stats(bars, sim, BacktestConfig(cash=curve[0], **config))


def test_drawdowns_are_positive_and_measured_peak_to_recovery() -> None:
    # Under water 1 -> 4 (deepest 10 %), then 5 -> last bar (deepest 25 %, unrecovered).
    stats = report([100, 110, 99, 104, 110, 120, 90, 95]).stats
    assert stats["max_drawdown_pct"] == pytest.approx(25.0)
    assert stats["avg_drawdown_pct"] == pytest.approx(17.5)
    assert stats["max_drawdown_duration"] == 3
    assert stats["avg_drawdown_duration"] == pytest.approx(2.5)


def test_compat_block_uses_backtesting_py_signs_and_day_durations() -> None:
    day = 86_400
    result = report([100, 110, 99, 104, 110], ts=[k * 2 * day for k in range(5)])
    compat = result.compat["backtesting_py"]
    assert compat["Max. Drawdown [%]"] == pytest.approx(-10.0)
    assert compat["Max. Drawdown Duration"] == pytest.approx(6.0)  # days
    assert result.stats["max_drawdown_duration"] == 3  # bars
    assert result.meta["compat_duration_unit"] == "days"


def test_trade_figures() -> None:
    pnl = [50.0, 30.0, -20.0, 10.0, -40.0, -10.0, 60.0]
    stats = report([100.0] * 20, pnl).stats
    wins, losses = [p for p in pnl if p > 0], [p for p in pnl if p < 0]
    win_rate = len(wins) / len(pnl)
    assert stats["trades"] == 7
    assert stats["win_rate_pct"] == pytest.approx(win_rate * 100)
    assert stats["profit_factor"] == pytest.approx(sum(wins) / -sum(losses))
    assert stats["sqn"] == pytest.approx(math.sqrt(7) * np.mean(pnl) / np.std(pnl, ddof=1))
    ratio = np.mean(wins) / -np.mean(losses)
    assert stats["kelly"] == pytest.approx(win_rate - (1 - win_rate) / ratio)
    assert stats["expectancy_pct"] == pytest.approx(np.mean(pnl) / 1000 * 100)
    assert stats["best_trade_pct"] == pytest.approx(6.0)
    assert stats["worst_trade_pct"] == pytest.approx(-4.0)
    assert stats["avg_win_pct"] == pytest.approx(np.mean(wins) / 10)
    assert stats["avg_loss_pct"] == pytest.approx(np.mean(losses) / 10)
    assert stats["largest_win"] == 60.0
    assert stats["largest_loss"] == -40.0
    assert stats["max_consecutive_wins"] == 2
    assert stats["max_consecutive_losses"] == 2
    growth = np.array(pnl) / 1000 + 1
    assert stats["avg_trade_pct"] == pytest.approx((growth.prod() ** (1 / 7) - 1) * 100)
    assert stats["commissions"] == 7.0


def test_profit_factor_without_losses_is_infinite_and_stated_in_meta() -> None:
    result = report([100.0] * 6, [10.0, 20.0])
    assert result.stats["profit_factor"] == math.inf
    assert result.meta["profit_factor_no_losses"].startswith("inf")
    assert result.meta["win_rate_denominator"].startswith("closed trades")


def test_no_trades_leaves_trade_figures_undefined() -> None:
    stats = report([100.0, 101.0, 102.0]).stats
    assert stats["trades"] == 0
    for key in ("win_rate_pct", "profit_factor", "sqn", "kelly", "avg_trade_pct"):
        assert stats[key] is None, key
    assert stats["exposure_pct"] == 0.0


def test_open_position_counts_in_exposure_and_commissions_not_in_trades() -> None:
    position = OpenPosition(
        entry_bar=6, units=5.0, entry_price=100.0, entry_commission=2.5, last_close=101.0
    )
    result = report([100.0] * 10, [10.0], spans=[(1, 3)], position=position)
    assert result.stats["trades"] == 1
    assert result.stats["open_trades"] == 1
    assert result.stats["exposure_pct"] == pytest.approx(70.0)  # bars 1-3 and 6-9
    assert result.compat["backtesting_py"]["Exposure Time [%]"] == pytest.approx(30.0)
    assert result.stats["commissions"] == pytest.approx(3.5)
    assert position.unrealized_pnl == pytest.approx(5.0)


def test_returns_annualize_with_periods_per_year() -> None:
    rng = np.random.default_rng(7)
    equity = 100 * np.cumprod(1 + rng.normal(0.0005, 0.01, 2000))
    stats = report(list(equity), periods_per_year=252.0).stats
    returns = equity[1:] / equity[:-1] - 1
    gmean = np.exp(np.log1p(returns).mean()) - 1
    assert stats["return_ann_pct"] == pytest.approx(((1 + gmean) ** 252 - 1) * 100)
    # The compounded-volatility formula is close to std * sqrt(P) for small returns.
    simple = returns.std(ddof=1) * math.sqrt(252) * 100
    assert stats["volatility_ann_pct"] == pytest.approx(simple, rel=0.1)
    assert stats["sharpe"] == pytest.approx(
        stats["return_ann_pct"] / stats["volatility_ann_pct"]  # type: ignore[operator]
    )
    years = (equity.size - 1) / 252
    growth = equity[-1] / equity[0]
    assert stats["cagr_pct"] == pytest.approx((growth ** (1 / years) - 1) * 100)


def test_risk_free_rate_lowers_sharpe() -> None:
    equity = list(100 * np.cumprod(np.full(300, 1.001) + np.tile([0.002, -0.002], 150)))
    plain = report(equity).stats["sharpe"]
    with_rate = report(equity, risk_free_rate=0.05).stats["sharpe"]
    assert plain is not None and with_rate is not None and with_rate < plain


@pytest.mark.parametrize("settings", [{}, {"max_bars": 100}], ids=["marked", "bar-by-bar"])
def test_ruin_liquidates_and_flattens_equity(settings: dict[str, Any]) -> None:
    # Short all-in, then the price triples: equity hits zero and trading stops. With an
    # expiry set the loop checks every bar; without, it marks runs of bars at once.
    close = np.array([100.0, 100.0, 100.0, 150.0, 300.0, 310.0, 320.0])
    result = run_backtest(
        close, close, close, close, signal=[0, -1, -1, -1, -1, 1, 1],
        config=BacktestConfig(cash=10_000.0, allow_short=True, **settings),
    )  # fmt: skip
    assert result.trades.exit_bar.tolist() == [4]
    assert result.trades.exit_reason.tolist() == [4]  # liquidation
    assert (result.equity[4:] == 0).all()
    assert result.stats["equity_final"] == 0.0
    assert result.open_position is None


def test_stats_are_plain_json_ready_numbers() -> None:
    close = 100 + np.sin(np.arange(300) / 7.0) * 10
    ts = 1_700_000_000 + 3_600 * np.arange(300)
    result = run_backtest(
        close, close + 1, close - 1, close, ts=ts, signal=np.sign(np.cos(np.arange(300) / 7.0)),
        config=BacktestConfig(allow_short=True, periods_per_year=8760.0),
    )  # fmt: skip
    assert result.stats["trades"] > 5  # type: ignore[operator]
    blocks = [result.stats, *result.compat.values()]
    for block in blocks:
        for key, value in block.items():
            assert value is None or type(value) in (int, float), key
    rows = result.trades.records(ts)
    assert rows[0]["exit_reason"] == "signal"
    assert rows[0]["exit_ts"] == int(ts[rows[0]["exit_bar"]])
    assert {row["side"] for row in rows} == {"long", "short"}
