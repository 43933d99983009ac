"""From a validated request and its bars to the JSON documents a run stores.

No I/O: these functions run in a worker thread (runner.run_cpu) and in the CLI. Every float that
leaves here is JSON-safe: NaN is null and +/-inf is the string "Infinity"/"-Infinity"
(``profit_factor`` with no losing trade), because PostgreSQL's JSON type and strict JSON
parsers reject bare Infinity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Required, TypedDict

import numpy as np
import numpy.typing as npt

from quantdesk.backtest.schemas import (
    BacktestCreate,
    BacktestOptions,
    FixedSizing,
    FractionSizing,
    SweepCreate,
    grid_values,
)
from quantdesk.backtest.strategies import build_strategy
from quantdesk.engine.backtest import (
    BacktestConfig,
    BacktestResult,
    Bars,
    OpenPosition,
    Sizing,
    backtest_bars,
    sweep_sma_cross,
)
from quantdesk.engine.backtest.sweep import METRICS
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import epochs_to_iso
from quantdesk.marketdata.frames import BarFrame
from quantdesk.models import AssetClass

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Trading days per year and hours per trading day, by asset class: US equity sessions are
# 6.5 h on 252 days, FX trades around the clock on weekdays, crypto never closes.
_CALENDARS: dict[AssetClass, tuple[float, float]] = {
    AssetClass.EQUITY: (252.0, 6.5),
    AssetClass.INDEX: (252.0, 6.5),
    AssetClass.FUND: (252.0, 6.5),
    AssetClass.FX: (260.0, 24.0),
    AssetClass.CRYPTO: (365.0, 24.0),
}


@dataclass(frozen=True)
class RunInputs:
    """A run's resolved request (``periods_per_year`` filled in) and its bars."""

    request: BacktestCreate | SweepCreate
    frame: BarFrame
    source_timeframe: str


class BarsInfoDocument(TypedDict):
    """Which bars a run read."""

    count: int
    first: str
    last: str
    source_timeframe: str


class EquityCurve(TypedDict):
    t: list[int]  # bar open times, Unix seconds
    equity: list[Any]  # floats; NaN/inf made JSON-safe (json_safe)


class SweepDocument(TypedDict):
    rank_by: str
    metrics: list[str]
    count: int
    results: list[dict[str, Any]]  # one row of METRICS per pair, best first
    heatmap: dict[str, Any]  # {x, y, z, x_param, y_param, metric}


class RunDocument(TypedDict, total=False):
    """The whole result of a run as stored: a sweep gives `sweep`, a single run the rest."""

    bars: Required[BarsInfoDocument]
    sweep: SweepDocument
    stats: dict[str, Any]  # engine statistics by name (JSON-safe)
    meta: dict[str, Any]
    compat: dict[str, Any]  # backtesting.py-compatible figures
    trades: list[dict[str, Any]]
    open_position: dict[str, Any] | None
    equity: EquityCurve


class EquityView(TypedDict):
    t: list[str]
    equity: list[float]
    drawdown_pct: list[float]


def compute_document(inputs: RunInputs) -> RunDocument:
    """The whole result of a run: single runs give stats / meta / compat / trades /
    open_position / equity, sweeps give ``sweep``; both give ``bars`` (what was read)."""
    bars = to_bars(inputs.frame)
    info = bars_info(inputs.frame, inputs.source_timeframe)
    if isinstance(inputs.request, SweepCreate):
        return {"sweep": run_sweep(inputs.request, bars), "bars": info}
    return single_document(run_single(inputs.request, bars), bars, info)


def default_periods_per_year(timeframe: Timeframe, asset_class: AssetClass) -> float:
    if timeframe is Timeframe.W1:
        return 52.0
    if timeframe is Timeframe.MN1:
        return 12.0
    days, hours = _CALENDARS.get(asset_class, (252.0, 24.0))
    if timeframe is Timeframe.D1:
        return days
    return days * max(1.0, hours * 3_600 / timeframe.seconds)


def engine_config(options: BacktestOptions) -> BacktestConfig:
    """The engine's config for a request whose ``periods_per_year`` is already resolved."""
    sizing = options.sizing
    mode: Sizing = "all_in"
    if isinstance(sizing, FractionSizing):
        mode = "fraction"
    elif isinstance(sizing, FixedSizing):
        mode = "fixed"
    return BacktestConfig(
        cash=options.cash,
        commission=options.commission,
        slippage_bps=options.slippage_bps,
        fill=options.fill,
        sizing=mode,
        fraction=sizing.fraction if isinstance(sizing, FractionSizing) else 1.0,
        size=sizing.size if isinstance(sizing, FixedSizing) else None,
        allow_short=options.allow_short,
        stop_loss_pct=options.stop_loss_pct,
        take_profit_pct=options.take_profit_pct,
        max_bars=options.max_bars,
        periods_per_year=options.periods_per_year or 252.0,
    )


def to_bars(frame: BarFrame) -> Bars:
    return Bars.of(frame.open, frame.high, frame.low, frame.close, frame.volume, frame.ts)


def json_safe(value: Any) -> Any:
    """Recursively replace NaN with None and +/-inf with "Infinity"/"-Infinity"."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, Mapping):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def bars_info(frame: BarFrame, source_timeframe: str) -> BarsInfoDocument:
    first, last = epochs_to_iso([int(frame.ts[0]), int(frame.ts[-1])])
    return {"count": len(frame), "first": first, "last": last, "source_timeframe": source_timeframe}


def run_single(request: BacktestCreate, bars: Bars) -> BacktestResult:
    strategy = build_strategy(request.strategy, request.params)
    return backtest_bars(bars, strategy=strategy, config=engine_config(request))


def single_document(result: BacktestResult, bars: Bars, info: BarsInfoDocument) -> RunDocument:
    """stats / meta / compat / trades / open position / equity, ready to store."""
    assert bars.ts is not None
    ts = bars.ts
    return {
        "bars": info,
        "stats": json_safe(result.stats),
        "meta": json_safe(result.meta),
        "compat": json_safe(result.compat),
        "trades": trade_records(result, ts),
        "open_position": open_position_record(result.open_position, ts),
        "equity": {"t": ts.tolist(), "equity": json_safe(result.equity.tolist())},
    }


def trade_records(result: BacktestResult, ts: IntArray) -> list[dict[str, Any]]:
    rows = result.trades.records(ts)
    times = epochs_to_iso([stamp for row in rows for stamp in (row["entry_ts"], row["exit_ts"])])
    for index, row in enumerate(rows):
        del row["entry_ts"], row["exit_ts"]
        row["entry_time"], row["exit_time"] = times[2 * index], times[2 * index + 1]
        row["duration_bars"] = row["exit_bar"] - row["entry_bar"]
    records: list[dict[str, Any]] = json_safe(rows)
    return records


def open_position_record(position: OpenPosition | None, ts: IntArray) -> dict[str, Any] | None:
    if position is None:
        return None
    record: dict[str, Any] = json_safe(
        {
            "entry_bar": position.entry_bar,
            "entry_time": epochs_to_iso([int(ts[position.entry_bar])])[0],
            "side": "long" if position.units > 0 else "short",
            "units": abs(position.units),
            "entry_price": position.entry_price,
            "entry_commission": position.entry_commission,
            "last_close": position.last_close,
            "unrealized_pnl": position.unrealized_pnl,
        }
    )
    return record


def run_sweep(request: SweepCreate, bars: Bars) -> SweepDocument:
    """Every ``fast < slow`` pair of the grid, ranked by ``request.rank_by``, plus the rank
    metric on the full grid as a heatmap (``z[i][j]`` for ``y[i]`` fast, ``x[j]`` slow)."""
    result = sweep_sma_cross(
        bars,
        grid_values(request.grid.fast),
        grid_values(request.grid.slow),
        config=engine_config(request),
        rank_by=request.rank_by,
    )
    return {
        "rank_by": result.rank_by,
        "metrics": list(METRICS),
        "count": len(result.fast),
        "results": json_safe(result.ranked()),
        "heatmap": {
            "x": result.slow_periods.tolist(),
            "y": result.fast_periods.tolist(),
            "z": json_safe(result.heatmap.tolist()),
            "x_param": "slow",
            "y_param": "fast",
            "metric": result.rank_by,
        },
    }


def equity_view(ts: list[int], equity: list[float], points: int | None) -> EquityView:
    """Columnar equity and drawdown (percent below the running peak), at most ``points``
    long. Downsampling keeps evenly spaced bars, the last one and the deepest drawdown, so
    the curve still shows its worst point."""
    values = np.asarray(equity, dtype=np.float64)
    stamps = np.asarray(ts, dtype=np.int64)
    peak = np.maximum.accumulate(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = np.where(peak > 0, (1.0 - values / peak) * 100.0, 0.0)
    if points is not None and values.size > points:
        keep = np.linspace(0, values.size - 1, max(points - 1, 1)).round().astype(np.int64)
        keep = np.unique(np.append(keep, int(np.argmax(drawdown))))
        keep = keep[-points:] if keep.size > points else keep
        values, stamps, drawdown = values[keep], stamps[keep], drawdown[keep]
    return {
        "t": epochs_to_iso(stamps),
        "equity": values.tolist(),
        "drawdown_pct": drawdown.tolist(),
    }
