"""Tiny candle tables with the trades they must produce (one parametrize, as freqtrade's
``test_backtest_detail.py``). Prices are chosen so every level is exact in binary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from quantdesk.engine.backtest import EXIT_REASONS, BacktestConfig, run_backtest

# Six quiet bars around 100; scenarios override the bars they are about.
QUIET = (100.0, 101.0, 99.0, 100.0)


@dataclass(frozen=True)
class Scenario:
    target: list[int]
    # (entry_bar, exit_bar, side, entry_price, exit_price, exit_reason)
    trades: list[tuple[int, int, int, float, float, str]]
    bars: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    open_entry_bar: int | None = None


SCENARIOS = {
    "signal entry and exit at next opens": Scenario(
        target=[0, 1, 1, 1, 0, 0],
        bars={2: (102.0, 103.0, 101.0, 102.0), 5: (104.0, 105.0, 103.0, 104.0)},
        trades=[(2, 5, 1, 102.0, 104.0, "signal")],
    ),
    "fills at the signal bar's close": Scenario(
        target=[0, 1, 1, 1, 0, 0],
        bars={1: (100.0, 101.0, 99.0, 100.5), 4: (100.0, 101.0, 99.0, 99.5)},
        config={"fill": "close"},
        trades=[(1, 4, 1, 100.5, 99.5, "signal")],
    ),
    "stop hit": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={3: (99.0, 99.5, 94.0, 95.5)},
        config={"stop_loss_pct": 5.0},
        trades=[(2, 3, 1, 100.0, 95.0, "stop_loss")],
    ),
    "target hit": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={3: (101.0, 106.0, 100.5, 105.5)},
        config={"take_profit_pct": 5.0},
        trades=[(2, 3, 1, 100.0, 105.0, "take_profit")],
    ),
    "stop and target in one bar: stop first": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={3: (100.0, 106.0, 94.0, 100.0)},
        config={"stop_loss_pct": 5.0, "take_profit_pct": 5.0},
        trades=[(2, 3, 1, 100.0, 95.0, "stop_loss")],
    ),
    "stop hit in the entry bar": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={2: (100.0, 100.5, 94.0, 96.0)},
        config={"stop_loss_pct": 5.0},
        trades=[(2, 2, 1, 100.0, 95.0, "stop_loss")],
    ),
    "gap through stop fills at the open": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={3: (90.0, 91.0, 89.0, 90.5)},
        config={"stop_loss_pct": 5.0},
        trades=[(2, 3, 1, 100.0, 90.0, "stop_loss")],
    ),
    "gap through target fills at the open": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={3: (110.0, 111.0, 109.0, 110.0)},
        config={"take_profit_pct": 5.0},
        trades=[(2, 3, 1, 100.0, 110.0, "take_profit")],
    ),
    "expiry after max_bars at the open": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={4: (103.0, 104.0, 102.0, 103.0)},
        config={"max_bars": 2},
        trades=[(2, 4, 1, 100.0, 103.0, "expiry")],
    ),
    "expiry at the close with close fills": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={4: (101.0, 104.0, 100.0, 103.0)},
        config={"max_bars": 3, "fill": "close"},
        trades=[(1, 4, 1, 100.0, 103.0, "expiry")],
    ),
    "short stop hit": Scenario(
        target=[0, -1, -1, -1, -1, -1],
        bars={3: (101.0, 106.0, 100.5, 104.0)},
        config={"allow_short": True, "stop_loss_pct": 5.0},
        trades=[(2, 3, -1, 100.0, 105.0, "stop_loss")],
    ),
    "short target hit": Scenario(
        target=[0, -1, -1, -1, -1, -1],
        bars={3: (99.0, 99.5, 94.0, 96.0)},
        config={"allow_short": True, "take_profit_pct": 5.0},
        trades=[(2, 3, -1, 100.0, 95.0, "take_profit")],
    ),
    "short gap through stop": Scenario(
        target=[0, -1, -1, -1, -1, -1],
        bars={3: (108.0, 109.0, 107.0, 108.0)},
        config={"allow_short": True, "stop_loss_pct": 5.0},
        trades=[(2, 3, -1, 100.0, 108.0, "stop_loss")],
    ),
    "reversal closes and reopens at the same open": Scenario(
        target=[0, 1, 1, -1, -1, -1],
        bars={4: (98.0, 99.0, 97.0, 98.0)},
        config={"allow_short": True},
        trades=[(2, 4, 1, 100.0, 98.0, "signal")],
        open_entry_bar=4,
    ),
    "long-only treats a short target as flat": Scenario(
        target=[0, 1, 1, -1, -1, -1],
        bars={4: (98.0, 99.0, 97.0, 98.0)},
        trades=[(2, 4, 1, 100.0, 98.0, "signal")],
    ),
    "no re-entry after a stop until the target changes": Scenario(
        target=[0, 1, 1, 1, 1, 1],
        bars={2: (100.0, 100.5, 94.0, 96.0)},
        config={"stop_loss_pct": 5.0},
        trades=[(2, 2, 1, 100.0, 95.0, "stop_loss")],
    ),
    "slippage moves market fills against the trader": Scenario(
        target=[0, 1, 1, 1, 0, 0],
        config={"slippage_bps": 50.0},
        trades=[(2, 5, 1, 100.5, 99.5, "signal")],
    ),
    "a change on the last bar is never filled": Scenario(
        target=[0, 0, 0, 0, 0, 1],
        trades=[],
    ),
    "position open at the end is not a closed trade": Scenario(
        target=[0, 0, 0, 1, 1, 1],
        trades=[],
        open_entry_bar=4,
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_scenario_produces_expected_trades(scenario: Scenario) -> None:
    rows = np.array([scenario.bars.get(i, QUIET) for i in range(len(scenario.target))])
    config = BacktestConfig(cash=10_000.0, **scenario.config)
    result = run_backtest(
        rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3],
        signal=np.array(scenario.target), config=config,
    )  # fmt: skip
    trades = result.trades
    got = [
        (
            int(trades.entry_bar[k]),
            int(trades.exit_bar[k]),
            1 if trades.units[k] > 0 else -1,
            round(float(trades.entry_price[k]), 9),  # slippage: 100 * 1.005 = 100.49999...
            round(float(trades.exit_price[k]), 9),
            EXIT_REASONS[trades.exit_reason[k]],
        )
        for k in range(len(trades))
    ]
    assert got == scenario.trades
    position = result.open_position
    assert (position.entry_bar if position else None) == scenario.open_entry_bar
    assert result.stats["trades"] == len(scenario.trades)
    assert result.stats["open_trades"] == (0 if position is None else 1)
