"""Typed front of the bar-loop kernel: target positions in, trades and equity out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from quantdesk.engine.backtest import _kernels
from quantdesk.engine.backtest.bars import Bars, FloatArray, Int8Array, IntArray
from quantdesk.engine.backtest.config import BacktestConfig

EXIT_REASONS = _kernels.EXIT_REASONS


@dataclass(frozen=True, slots=True, eq=False)
class Trades:
    """Closed trades, one element per trade, in the order they were closed.

    Bars are indices into the input series. ``units`` is signed (``< 0`` short);
    prices are fill prices after slippage; ``commission`` is both sides in cash;
    ``pnl`` is cash profit net of both commissions; ``return_pct`` is backtesting.py's
    ``ReturnPct`` * 100: ``side * (exit / entry - 1) - commission / (|units| * entry)``.
    ``exit_reason`` indexes ``EXIT_REASONS``.
    """

    entry_bar: IntArray
    exit_bar: IntArray
    units: FloatArray
    entry_price: FloatArray
    exit_price: FloatArray
    commission: FloatArray
    pnl: FloatArray
    return_pct: FloatArray
    exit_reason: Int8Array

    def __len__(self) -> int:
        return int(self.entry_bar.size)

    @property
    def duration_bars(self) -> IntArray:
        return self.exit_bar - self.entry_bar

    def records(self, ts: IntArray | None = None) -> list[dict[str, Any]]:
        """One JSON-ready dict per trade; with ``ts``, entry/exit times (epoch seconds)."""
        rows: list[dict[str, Any]] = []
        for k in range(len(self)):
            entry, exit_ = int(self.entry_bar[k]), int(self.exit_bar[k])
            row: dict[str, Any] = {
                "entry_bar": entry,
                "exit_bar": exit_,
                "side": "long" if self.units[k] > 0 else "short",
                "units": float(abs(self.units[k])),
                "entry_price": float(self.entry_price[k]),
                "exit_price": float(self.exit_price[k]),
                "commission": float(self.commission[k]),
                "pnl": float(self.pnl[k]),
                "return_pct": float(self.return_pct[k]),
                "exit_reason": EXIT_REASONS[int(self.exit_reason[k])],
            }
            if ts is not None:
                row["entry_ts"] = int(ts[entry])
                row["exit_ts"] = int(ts[exit_])
            rows.append(row)
        return rows


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """The position still open after the last bar, marked to the last close.

    ``unrealized_pnl`` = ``units * (last_close - entry_price)``, the part of
    ``equity_final`` not yet realized; the entry commission is already paid (it is in
    ``entry_commission`` and out of cash), the exit commission is not charged.
    """

    entry_bar: int
    units: float
    entry_price: float
    entry_commission: float
    last_close: float

    @property
    def unrealized_pnl(self) -> float:
        return self.units * (self.last_close - self.entry_price)


@dataclass(frozen=True, slots=True, eq=False)
class Simulation:
    """Equity at every bar's close (cash + position marked to that close) and trades."""

    equity: FloatArray
    trades: Trades
    open_position: OpenPosition | None


def as_target(signal: npt.ArrayLike, size: int) -> Int8Array:
    """Validate a target-position series: -1 short, 0 flat, +1 long (bools: long/flat)."""
    array = np.asarray(signal)
    if array.shape != (size,):
        raise ValueError(f"signal must be a 1-D array of {size} bars, got shape {array.shape}")
    if array.dtype == np.int8:
        target = np.ascontiguousarray(array)
    else:
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError("signal must not contain NaN (use 0 for flat)")
        target = np.ascontiguousarray(array, dtype=np.int8)
        if not np.array_equal(target, array):
            raise ValueError("signal values must be -1, 0 or +1")
    if target.size and (target.min() < -1 or target.max() > 1):
        raise ValueError("signal values must be -1, 0 or +1")
    return target


# cash, commission, slippage, fill at close, sizing mode, fraction or size, whole units,
# allow short, stop loss, take profit, max bars
KernelSettings = tuple[float, float, float, bool, int, float, bool, bool, float, float, int]

_SIZING_MODES = {
    "fraction": _kernels.SIZE_FRACTION,
    "all_in": _kernels.SIZE_ALL_IN,
    "fixed": _kernels.SIZE_FIXED,
}


def kernel_settings(config: BacktestConfig) -> KernelSettings:
    """`config` as the compiled bar loop's scalar arguments, in its parameter order (cash
    through max_bars; NaN for a stop or take-profit that is off). The sweep kernel takes the
    same ones."""
    return (
        float(config.cash),
        float(config.commission),
        float(config.slippage),
        config.fill == "close",
        _SIZING_MODES[config.sizing],
        float(config.size if config.size is not None else config.fraction),
        bool(config.whole_units),
        bool(config.allow_short),
        math.nan if config.stop_loss_pct is None else config.stop_loss_pct / 100.0,
        math.nan if config.take_profit_pct is None else config.take_profit_pct / 100.0,
        int(config.max_bars or 0),
    )


def simulate(bars: Bars, target: Int8Array, config: BacktestConfig) -> Simulation:
    """Trade ``target`` positions on ``bars`` under ``config``.

    ``target[i]`` is the position wanted from the close of bar ``i`` on (known at that
    close). Orders are edge-triggered: only a *change* of target trades - it closes an
    opposite position and opens the new side (``next_open``: at the next bar's open;
    ``close``: at bar ``i``'s close). After a stop-loss, take-profit or expiry exit the
    position stays flat until the target changes again. One position at a time; short
    targets mean flat when ``config.allow_short`` is False. Equity that reaches zero
    liquidates the position at that close and ends trading (equity 0 from there on).

    Performance: compiled; 1-2 ns per bar (runs without events are marked vectorized).
    """
    equity, tf, ti, state = _kernels.simulate(
        bars.open, bars.high, bars.low, bars.close, target, *kernel_settings(config)
    )
    trades = Trades(
        entry_bar=np.ascontiguousarray(ti[:, 0]),
        exit_bar=np.ascontiguousarray(ti[:, 1]),
        units=np.ascontiguousarray(tf[:, 0]),
        entry_price=np.ascontiguousarray(tf[:, 1]),
        exit_price=np.ascontiguousarray(tf[:, 2]),
        commission=np.ascontiguousarray(tf[:, 3]),
        pnl=np.ascontiguousarray(tf[:, 4]),
        return_pct=tf[:, 5] * 100.0,
        exit_reason=ti[:, 2].astype(np.int8),
    )
    units, entry_price, entry_commission, entry_bar = (float(v) for v in state)
    position = None
    if units != 0.0:
        position = OpenPosition(
            entry_bar=int(entry_bar),
            units=units,
            entry_price=entry_price,
            entry_commission=entry_commission,
            last_close=float(bars.close[-1]),
        )
    return Simulation(equity=equity, trades=trades, open_position=position)
