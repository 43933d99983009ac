"""Large sweeps in chunks, without I/O: the bounds of a request, how a symbol's grid is split
into chunks, one chunk's rows (the compiled kernel on its block of the grid), and the gather
that merges every chunk into one ranked result.

The gather ranks exactly as ``sweep_sma_cross`` does for one symbol: rows in grid order
(symbol as asked, then fast, then slow), a stable sort on the rank metric (descending, or
ascending for drawdown; NaN last). Each pair's figures do not depend on which other pairs
ran beside it, so the chunked result equals the single-process one row for row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NotRequired, TypedDict

import numpy as np

from quantdesk.backtest.compute import BarsInfoDocument, engine_config, json_safe, to_bars
from quantdesk.backtest.schemas import SweepCreate, grid_values
from quantdesk.engine.backtest import sweep_sma_cross
from quantdesk.engine.backtest.sweep import METRICS
from quantdesk.errors import Unprocessable, field_error
from quantdesk.marketdata.frames import BarFrame

#: Metrics where smaller is better (as in the engine's sweep); the rest rank descending.
_ASCENDING = frozenset({"max_drawdown_pct"})

Row = dict[str, Any]


class HeatmapDocument(TypedDict):
    x: list[int]
    y: list[int]
    z: list[list[Any]]
    x_param: str
    y_param: str
    metric: str


class ChunkedSweepDocument(TypedDict):
    """A sweep's stored result: every (symbol, fast < slow) row, best first."""

    rank_by: str
    metrics: list[str]
    count: int
    symbols: list[str]
    results: list[Row]  # {"symbol", "fast", "slow", *METRICS}
    heatmaps: dict[str, HeatmapDocument]  # by symbol
    bars: dict[str, BarsInfoDocument]  # by symbol: what each symbol's chunks read
    heatmap: NotRequired[HeatmapDocument]  # one symbol: its heatmap, as before


@dataclass(frozen=True, slots=True)
class Block:
    """One chunk of one symbol: every fast < slow pair of ``fast`` x ``slow``."""

    symbol: str
    fast: list[int]
    slow: list[int]

    @property
    def pairs(self) -> int:
        return sum(1 for f in self.fast for s in self.slow if f < s)


def pair_count(request: SweepCreate) -> int:
    fast, slow = grid_values(request.grid.fast), grid_values(request.grid.slow)
    return sum(1 for f in fast for s in slow if f < s)


def check_request(request: SweepCreate, most_combinations: int, most_cells: int) -> None:
    """422 naming the field: a grid over ``most_combinations``, a grid without any
    fast < slow pair, or more than ``most_cells`` (symbols x pairs)."""
    fast, slow = grid_values(request.grid.fast), grid_values(request.grid.slow)
    combinations = len(fast) * len(slow)
    if combinations > most_combinations:
        message = (
            f"{len(fast)} x {len(slow)} = {combinations:,} combinations; "
            f"at most {most_combinations:,}"
        )
        raise Unprocessable(
            f"the grid is too large: {message}", errors=[field_error(["body", "grid"], message)]
        )
    pairs = pair_count(request)
    if not pairs:
        message = "no pair with fast < slow: every fast period is at least every slow one"
        raise Unprocessable(message, errors=[field_error(["body", "grid"], message)])
    cells = pairs * len(request.symbols)
    if cells > most_cells:
        message = (
            f"{len(request.symbols)} symbols x {pairs:,} pairs = {cells:,} cells; "
            f"at most {most_cells:,}: fewer symbols or a smaller grid"
        )
        raise Unprocessable(
            f"the sweep is too large: {message}",
            errors=[field_error(["body", "symbols"], message)],
        )


def blocks(symbol: str, fast: list[int], slow: list[int], most_pairs: int) -> list[Block]:
    """``fast`` x ``slow`` (both ascending) in tiles of at most ``most_pairs`` cells, nearly
    square (each tile computes one moving average per period it holds); tiles without a
    fast < slow pair are left out. Every pair is in exactly one tile."""
    most_pairs = max(1, most_pairs)
    rows = min(len(fast), max(1, math.isqrt(most_pairs)))
    cols = min(len(slow), max(1, most_pairs // rows))
    rows = min(len(fast), max(1, most_pairs // cols))  # a short slow axis: taller tiles
    tiles = []
    for i in range(0, len(fast), rows):
        fast_part = fast[i : i + rows]
        for j in range(0, len(slow), cols):
            slow_part = slow[j : j + cols]
            if fast_part[0] < slow_part[-1]:
                tiles.append(Block(symbol, fast_part, slow_part))
    return tiles


def plan_symbol(request: SweepCreate, symbol: str, bar_count: int, work: int) -> list[Block]:
    """One symbol's chunks, each about ``work`` pair-bars of kernel time."""
    most_pairs = max(1, work // max(1, bar_count))
    return blocks(
        symbol, grid_values(request.grid.fast), grid_values(request.grid.slow), most_pairs
    )


def chunk_rows(
    request: SweepCreate, frame: BarFrame, fast: list[int], slow: list[int]
) -> list[Row]:
    """The kernel on one block: a row per fast < slow pair, in grid order (fast, then slow),
    JSON-safe. ``request`` is the symbol's resolved request (its periods per year)."""
    result = sweep_sma_cross(
        to_bars(frame), fast, slow, config=engine_config(request), rank_by=request.rank_by
    )
    in_grid_order = replace(result, order=np.arange(result.fast.size))
    rows: list[Row] = json_safe(in_grid_order.ranked())
    return rows


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    if value == "Infinity":
        return math.inf
    if value == "-Infinity":
        return -math.inf
    return float(value)


def gather(
    request: SweepCreate,
    chunks: Iterable[tuple[str, list[Row]]],
    bars: Mapping[str, BarsInfoDocument],
) -> ChunkedSweepDocument:
    """Every chunk's rows as one ranked result, with a heatmap of the rank metric per
    symbol (``z[i][j]`` for ``y[i]`` fast, ``x[j]`` slow; null where fast >= slow)."""
    position = {symbol: index for index, symbol in enumerate(request.symbols)}
    rows = [{"symbol": symbol, **row} for symbol, part in chunks for row in part]
    rows.sort(key=lambda row: (position[row["symbol"]], row["fast"], row["slow"]))
    metric = request.rank_by
    scores = np.array([_number(row[metric]) for row in rows], dtype=np.float64)
    key = scores if metric in _ASCENDING else -scores
    order = np.argsort(np.where(np.isnan(key), np.inf, key), kind="stable")
    fast, slow = grid_values(request.grid.fast), grid_values(request.grid.slow)
    heatmaps = {symbol: _heatmap(fast, slow, metric) for symbol in request.symbols}
    fast_at = {period: index for index, period in enumerate(fast)}
    slow_at = {period: index for index, period in enumerate(slow)}
    for row in rows:
        z = heatmaps[row["symbol"]]["z"]
        z[fast_at[row["fast"]]][slow_at[row["slow"]]] = row[metric]
    document: ChunkedSweepDocument = {
        "rank_by": metric,
        "metrics": list(METRICS),
        "count": len(rows),
        "symbols": list(request.symbols),
        "results": [rows[int(index)] for index in order],
        "heatmaps": heatmaps,
        "bars": dict(bars),
    }
    if len(request.symbols) == 1:
        document["heatmap"] = heatmaps[request.symbols[0]]
    return document


def _heatmap(fast: list[int], slow: list[int], metric: str) -> HeatmapDocument:
    return {
        "x": list(slow),
        "y": list(fast),
        "z": [[None] * len(slow) for _ in fast],
        "x_param": "slow",
        "y_param": "fast",
        "metric": metric,
    }
