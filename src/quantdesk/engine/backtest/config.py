"""Backtest settings: one frozen dataclass, validated on construction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Fill = Literal["next_open", "close"]
Sizing = Literal["all_in", "fraction", "fixed"]


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """How orders are filled, sized and charged.

    * ``cash``: starting equity, in the instrument's quote currency.
    * ``commission``: fraction of traded notional charged on **each** side (entry and
      exit), e.g. ``0.001`` = 0.1 % per side; charged on the fill price.
    * ``slippage_bps``: basis points added to the price of every *market* fill (signal
      entries and exits, expiries, stop-loss exits) against the trader: buys fill at
      ``price * (1 + bps/1e4)``, sells at ``price * (1 - bps/1e4)``. Take-profit exits
      are limit orders and fill at their limit (or at a better gap open) without it.
    * ``fill``: ``"next_open"`` (default) - a target change seen at the close of bar
      ``i`` is filled at the open of bar ``i + 1``; a change on the last bar is never
      filled. ``"close"`` - filled at the close of bar ``i`` itself.
    * ``sizing``: ``"all_in"`` - every entry uses all equity (cash after closing any
      opposite position): ``units = floor(cash * (1 - eps) / (fill * (1 + commission)))``,
      exactly backtesting.py's default ``buy()``/``sell()`` size. ``"fraction"`` -
      ``units = cash * fraction / (fill * (1 + commission))``. ``"fixed"`` - every entry
      is for exactly ``size`` units (``whole_units`` does not round it), backtesting.py's
      ``buy(size=...)``: when ``size * fill * (1 + commission)`` exceeds the cash the
      entry is canceled - not shrunk, not retried; the position stays flat until the
      target changes again.
    * ``size``: units per entry; required with ``sizing="fixed"``, refused otherwise.
    * ``whole_units``: round units down to whole numbers (the references do); when
      False, fractional units are traded.
    * ``allow_short``: False = long-only (a short target means flat).
    * ``stop_loss_pct`` / ``take_profit_pct``: exit levels in percent of the entry fill
      price (``2.0`` = 2 %), checked on every bar the trade is open, including the bar
      it was entered at the open of. Intrabar order: stop before target when a bar
      touches both; a bar that opens beyond a level fills at the open.
    * ``max_bars``: close a trade still open ``max_bars`` bars after its entry bar, on
      bar ``entry_bar + max_bars`` (at its open for ``next_open``, at its close for
      ``close``).
    * ``periods_per_year``: bars per year used to annualize per-bar returns
      (252 for daily equity bars, 252 * 6.5 for US-session hourly, 8760 for 24/7 hourly).
    * ``risk_free_rate``: annual risk-free rate as a fraction, subtracted from the
      annualized return in Sharpe and Sortino.
    """

    cash: float = 1_000_000.0
    commission: float = 0.0
    slippage_bps: float = 0.0
    fill: Fill = "next_open"
    sizing: Sizing = "all_in"
    fraction: float = 1.0
    size: float | None = None
    whole_units: bool = True
    allow_short: bool = False
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    max_bars: int | None = None
    periods_per_year: float = 252.0
    risk_free_rate: float = 0.0

    def __post_init__(self) -> None:
        _check(math.isfinite(self.cash) and self.cash > 0, "cash must be > 0")
        _check(0.0 <= self.commission < 0.1, "commission must be in [0, 0.1)")
        _check(0.0 <= self.slippage_bps < 1000.0, "slippage_bps must be in [0, 1000)")
        _check(self.fill in ("next_open", "close"), "fill must be 'next_open' or 'close'")
        _check(
            self.sizing in ("all_in", "fraction", "fixed"),
            "sizing must be 'all_in', 'fraction' or 'fixed'",
        )
        _check(0.0 < self.fraction <= 1.0, "fraction must be in (0, 1]")
        if self.sizing == "fixed":
            _check(self.size is not None, "size is required with sizing='fixed'")
            _check(
                self.size is not None and math.isfinite(self.size) and self.size > 0,
                "size must be a finite number of units > 0",
            )
        else:
            _check(self.size is None, "size applies only to sizing='fixed'")
        _check(
            self.stop_loss_pct is None or 0.0 < self.stop_loss_pct < 100.0,
            "stop_loss_pct must be in (0, 100)",
        )
        _check(
            self.take_profit_pct is None or self.take_profit_pct > 0.0,
            "take_profit_pct must be > 0",
        )
        _check(self.max_bars is None or self.max_bars >= 1, "max_bars must be >= 1")
        _check(self.periods_per_year > 0, "periods_per_year must be > 0")
        _check(-1.0 < self.risk_free_rate < 1.0, "risk_free_rate must be in (-1, 1)")

    @property
    def slippage(self) -> float:
        """Slippage as a fraction of price."""
        return self.slippage_bps / 1e4


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)
