"""Backtest API schemas: strict requests (unknown fields and out-of-range values are 422s)
and the documents a run answers with."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from quantdesk.backtest import defaults
from quantdesk.backtest.strategies import STRATEGIES, validate_params
from quantdesk.engine.backtest.sweep import METRICS
from quantdesk.kit.symbols import normalize_symbol
from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import BacktestKind, BacktestStatus

# Strict: a JSON string such as "5" is a 422, not quietly a number (ints are accepted).
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class FractionSizing(BaseModel):
    """Each entry uses this fraction of equity (``units = equity * fraction / price``)."""

    model_config = ConfigDict(extra="forbid")

    fraction: Annotated[Number, Field(gt=0, le=1)]


class FixedSizing(BaseModel):
    """Each entry is for exactly this many units, backtesting.py's ``buy(size=n)``: an
    entry whose cost (with commission) exceeds the cash is canceled, not shrunk."""

    model_config = ConfigDict(extra="forbid")

    size: Annotated[
        Number,
        Field(
            ge=defaults.MIN_FIXED_SIZE,
            le=defaults.MAX_FIXED_SIZE,
            description="Units per entry (fractions allowed, e.g. 0.5 BTC)",
            examples=[100],
        ),
    ]


class BacktestOptions(BaseModel):
    """What to trade and how orders are filled, sized and charged (engine BacktestConfig).
    Every default and bound comes from backtest/defaults.py."""

    model_config = ConfigDict(extra="forbid")

    symbol: Annotated[str, Field(max_length=32, examples=["GOOG"])]
    timeframe: Timeframe = defaults.TIMEFRAME
    start: datetime | None = Field(
        None, description="Inclusive, ISO-8601 (naive = UTC); default: the first stored bar"
    )
    end: datetime | None = Field(
        None, description="Inclusive, ISO-8601 (naive = UTC); default: the last stored bar"
    )
    cash: Annotated[Number, Field(gt=0, le=defaults.MAX_CASH)] = defaults.CASH
    commission: Annotated[
        Number,
        Field(
            ge=0,
            lt=defaults.MAX_COMMISSION,
            description="Fraction of notional per side (0.001 = 0.1 %)",
        ),
    ] = defaults.COMMISSION
    slippage_bps: Annotated[Number, Field(ge=0, lt=defaults.MAX_SLIPPAGE_BPS)] = (
        defaults.SLIPPAGE_BPS
    )
    fill: Literal["next_open", "close"] = defaults.FILL
    sizing: Literal["all_in"] | FractionSizing | FixedSizing = Field(
        defaults.SIZING,
        description='"all_in" (all equity, whole units), {"fraction": f} of equity, or '
        '{"size": n} units per entry',
    )
    allow_short: StrictBool = defaults.ALLOW_SHORT
    stop_loss_pct: Annotated[Number | None, Field(gt=0, lt=100)] = None
    take_profit_pct: Annotated[Number | None, Field(gt=0, le=defaults.MAX_TAKE_PROFIT_PCT)] = None
    max_bars: Annotated[StrictInt | None, Field(ge=1, le=defaults.MAX_HOLD_BARS)] = None
    periods_per_year: Annotated[
        Number | None,
        Field(
            ge=defaults.MIN_PERIODS_PER_YEAR,
            le=defaults.MAX_PERIODS_PER_YEAR,
            description="Bars per year for annualized figures, 1 to 31,536,000 (one-second bars "
            "all year); default from the timeframe and asset class (252 trading days for "
            "equities, 365 for crypto)",
        ),
    ] = None

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return normalize_symbol(value)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
            raise ValueError("the date is out of range in UTC") from exc

    @model_validator(mode="after")
    def _ordered(self) -> BacktestOptions:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("start must not be after end")
        return self


class BacktestCreate(BacktestOptions):
    strategy: Annotated[str, Field(max_length=64, examples=["sma_cross"])] = defaults.STRATEGY
    # Checked against the strategy's own schema (strategies.py) for per-parameter errors.
    params: Annotated[dict[str, Any], Field(max_length=32, examples=[{"fast": 10, "slow": 20}])] = (
        Field(default_factory=dict)
    )

    @field_validator("strategy")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in STRATEGIES:
            raise ValueError(f"unknown strategy {value!r}; known: {', '.join(STRATEGIES)}")
        return value

    @model_validator(mode="after")
    def _params(self) -> BacktestCreate:
        # Raises Unprocessable (not ValueError), so its errors keep their `params.<name>`
        # locations instead of collapsing into one model-level message; defaults filled in.
        self.params = validate_params(self.strategy, self.params)
        return self


class GridRange(BaseModel):
    """``start, start + step, ...`` up to and including ``stop``."""

    model_config = ConfigDict(extra="forbid")

    start: Annotated[StrictInt, Field(ge=1, le=100_000)]
    stop: Annotated[StrictInt, Field(ge=1, le=100_000)]
    step: Annotated[StrictInt, Field(ge=1, le=100_000)] = 1

    @model_validator(mode="after")
    def _ordered(self) -> GridRange:
        if self.start > self.stop:
            raise ValueError("start must not be after stop")
        return self

    def values(self) -> list[int]:
        return list(range(self.start, self.stop + 1, self.step))


PeriodList = Annotated[
    list[Annotated[StrictInt, Field(ge=1, le=100_000)]], Field(min_length=1, max_length=2_500)
]


def grid_values(axis: PeriodList | GridRange) -> list[int]:
    return axis.values() if isinstance(axis, GridRange) else sorted(set(axis))


class SmaGrid(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fast: PeriodList | GridRange = Field(examples=[{"start": 5, "stop": 50, "step": 5}])
    slow: PeriodList | GridRange = Field(examples=[{"start": 10, "stop": 200, "step": 10}])


class SweepCreate(BacktestOptions):
    # Sweeps run every pair through the compiled SMA kernel (engine sweep_sma_cross), split
    # into chunks (backtest/sweeps.py) that run on the job runner's workers.
    strategy: Literal["sma_cross"] = "sma_cross"
    symbols: Annotated[
        list[Annotated[str, Field(max_length=32)]],
        Field(
            min_length=1,
            max_length=defaults.MAX_SWEEP_SYMBOLS,
            description="Sweep these symbols (instead of `symbol`); one ranked result over all",
            examples=[["GOOG", "MSFT"]],
        ),
    ] = Field(default_factory=list)
    grid: SmaGrid
    rank_by: str = Field("sharpe", description=f"Metric to rank by, one of: {', '.join(METRICS)}")

    @model_validator(mode="before")
    @classmethod
    def _symbol_from_symbols(cls, data: Any) -> Any:
        # `symbols` alone: `symbol` is its first (the run's headline symbol).
        if isinstance(data, dict) and "symbol" not in data:
            symbols = data.get("symbols")
            if isinstance(symbols, list) and symbols and isinstance(symbols[0], str):
                return {**data, "symbol": symbols[0]}
        return data

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str], info: ValidationInfo) -> list[str]:
        symbols = [normalize_symbol(symbol) for symbol in value]
        repeated = sorted({symbol for symbol in symbols if symbols.count(symbol) > 1})
        if repeated:
            raise ValueError(f"each symbol once; repeated: {', '.join(repeated)}")
        symbol = info.data.get("symbol")
        if symbols and symbol is not None and symbols[0] != symbol:
            raise ValueError("give `symbol` (one) or `symbols` (several), not both")
        return symbols

    @field_validator("rank_by")
    @classmethod
    def _metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric {value!r}; one of: {', '.join(METRICS)}")
        return value

    @model_validator(mode="after")
    def _one_list(self) -> SweepCreate:
        if not self.symbols:
            self.symbols = [self.symbol]
        return self


class BacktestAccepted(BaseModel):
    id: str
    status: BacktestStatus


class BarsInfo(BaseModel):
    count: int
    first: datetime
    last: datetime
    source_timeframe: str


class BacktestRead(BaseModel):
    """A run as it stands. Figures that are infinite (``profit_factor`` with no losing
    trade) are the string ``"Infinity"``; undefined ones are null."""

    id: str
    kind: BacktestKind
    status: BacktestStatus
    progress: float = Field(description="0 to 1")
    symbol: str
    timeframe: str
    strategy: str
    params: dict[str, Any]
    request: dict[str, Any]
    bars: BarsInfo | None = None
    stats: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    compat: dict[str, Any] | None = Field(
        None, description="The same figures under backtesting.py's names and conventions"
    )
    open_position: dict[str, Any] | None = None
    sweep: dict[str, Any] | None = Field(
        None, description="Sweeps: ranked pairs and the rank metric on the grid (heatmap)"
    )
    chunks_total: int | None = Field(None, description="Sweeps: chunks the grid was split into")
    chunks_done: int | None = Field(None, description="Sweeps: chunks finished so far")
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class BacktestSummary(BaseModel):
    """A run in the caller's list: what was asked, where it stands, and its final equity."""

    id: str
    kind: BacktestKind
    status: BacktestStatus
    progress: float = Field(description="0 to 1")
    symbol: str
    timeframe: str
    strategy: str
    params: dict[str, Any] = Field(description="Strategy parameters (sweeps: the grid)")
    equity_final: float | None = Field(None, description="Single runs, once completed")
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class TradeRead(BaseModel):
    entry_bar: int
    exit_bar: int
    entry_time: datetime
    exit_time: datetime
    side: Literal["long", "short"]
    units: float
    entry_price: float
    exit_price: float
    commission: float
    pnl: float
    return_pct: float
    exit_reason: str
    duration_bars: int


class EquityRead(BaseModel):
    t: list[str] = Field(description="Bar times, ISO-8601 UTC")
    equity: list[float] = Field(description="Equity at each bar's close")
    drawdown_pct: list[float] = Field(description="Percent below the running equity peak")


class StrategyRead(BaseModel):
    name: str
    description: str
    sweepable: bool
    params: dict[str, Any] = Field(description="JSON schema of the strategy's params")


class ExampleRead(BaseModel):
    """A ready SMA(10)/SMA(20) crossover on the demo's daily GOOG bars."""

    request: dict[str, Any]
    bars: BarsInfo
    stats: dict[str, Any]
    meta: dict[str, Any]
    compat: dict[str, Any]
    open_position: dict[str, Any] | None
    trades: list[TradeRead]
    equity: EquityRead
