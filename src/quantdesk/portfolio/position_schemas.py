"""Positions, account summary and equity history documents (docs/paper-trading.md,
"Positions and P&L"). Money and quantities are decimal strings; performance figures are the
backtest statistics' floats (null when undefined)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from quantdesk.portfolio.money import Money


class PositionRead(BaseModel):
    """An open position from its FIFO lots, marked to the symbol's last price (the desk's
    market clock; the average entry price when the desk has no price yet)."""

    symbol: str
    side: Literal["long", "short"]
    qty: Money = Field(description="Signed: negative for a short")
    avg_entry_price: Money
    cost_basis: Money = Field(description="Σ open lot qty x price (negative for a short)")
    current_price: Money
    lastday_price: Money | None = Field(description="Close of the previous market day")
    market_value: Money
    unrealized_pnl: Money
    unrealized_pnl_pct: Money = Field(description="unrealized_pnl / |cost_basis| x 100")
    realized_pnl: Money = Field(description="Closed lots' P&L to date, fees excluded")
    day_change: Money = Field(description="qty x (current_price - lastday_price)")


class Performance(BaseModel):
    """The backtest statistics (engine/backtest/stats.py, same definitions) over the
    account's daily equity points, with net deposits as the starting cash and 252 points a
    year. Null while fewer than two day points exist or a figure is undefined."""

    points: int
    total_return_pct: float | None = None
    return_ann_pct: float | None = None
    cagr_pct: float | None = None
    volatility_ann_pct: float | None = None
    sharpe: float | None = None
    sortino: float | None = None
    calmar: float | None = None
    max_drawdown_pct: float | None = None
    avg_drawdown_pct: float | None = None
    max_drawdown_duration: int | None = Field(default=None, description="In day points")
    avg_drawdown_duration: float | None = None
    equity_peak: float | None = None


class SummaryRead(BaseModel):
    account_id: str
    currency: str
    cash: Money = Field(description="Total cash: free + held")
    held: Money
    free: Money
    equity: Money = Field(description="cash + Σ position market values")
    exposure: Money = Field(description="Σ |market value| of open positions")
    day_pnl: Money = Field(description="Σ positions' day_change")
    total_pnl: Money = Field(description="equity - net deposits")
    net_deposits: Money
    open_orders: int
    positions: int
    performance: Performance


class EquityHistory(BaseModel):
    """Columnar equity history: one point per market day (`kind` day, at the day's 00:00 UTC,
    valued after its last market event) and one per fill (at the fill's market time), oldest
    first. `profit_loss` = equity - `base_value` (the net deposits now)."""

    timeframe: Literal["1d"]
    base_value: Money
    timestamp: list[int]
    kind: list[Literal["day", "fill"]]
    equity: list[Money]
    cash: list[Money]
    profit_loss: list[Money]
