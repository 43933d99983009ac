"""SMA-crossover parameter sweeps: every (fast, slow) pair through compiled code.

Each distinct period's SMA is computed once, all of them in one shared pass (bit for bit
``sma``); chunks of pairs then run (on parallel threads when asked: the kernel releases
the GIL) through the same crossover rule and bar-loop kernel as ``run_backtest``, each
pair reduced to summary figures without leaving compiled code or allocating per pair.
A pair's figures equal
``run_backtest(..., strategy=SmaCross(fast, slow), config=config).stats`` for the same
names (to float rounding).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantdesk.engine.backtest import _sweep_kernel
from quantdesk.engine.backtest.bars import Bars, FloatArray, IntArray
from quantdesk.engine.backtest.config import BacktestConfig
from quantdesk.engine.backtest.simulator import kernel_settings

METRICS: tuple[str, ...] = _sweep_kernel.METRICS

#: Metrics where smaller is better; everything else ranks descending.
_ASCENDING = frozenset({"max_drawdown_pct"})


@dataclass(frozen=True, slots=True, eq=False)
class SweepResult:
    """One row per evaluated pair (``fast < slow``), columns ``METRICS``.

    ``order`` ranks the rows by ``rank_by`` (best first; NaN last). ``heatmap`` is the
    ``rank_by`` figure on the full grid, ``heatmap[i, j]`` for ``fast_periods[i]`` and
    ``slow_periods[j]``, NaN where ``fast >= slow``.
    """

    fast: IntArray
    slow: IntArray
    values: FloatArray
    rank_by: str
    order: IntArray
    fast_periods: IntArray
    slow_periods: IntArray
    heatmap: FloatArray

    def column(self, metric: str) -> FloatArray:
        return self.values[:, METRICS.index(metric)]

    def ranked(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Best pairs first, as JSON-ready dicts (NaN -> None)."""
        rows = []
        for p in self.order[:limit]:
            row: dict[str, Any] = {"fast": int(self.fast[p]), "slow": int(self.slow[p])}
            for name, value in zip(METRICS, self.values[p], strict=True):
                row[name] = None if math.isnan(value) else float(value)
            row["trades"] = int(self.values[p, METRICS.index("trades")])
            rows.append(row)
        return rows


def sweep_sma_cross(
    bars: Bars,
    fast_periods: Sequence[int],
    slow_periods: Sequence[int],
    config: BacktestConfig | None = None,
    rank_by: str = "sharpe",
    threads: int | None = None,
) -> SweepResult:
    """Backtest ``SmaCross(fast, slow)`` for every ``fast < slow`` of the two grids.

    ``threads`` (default: the CPUs this process may use) run chunks of pairs in
    parallel. Performance: about 0.25 ms per pair per 100,000 bars per thread, after one
    SMA pass per distinct period.
    """
    config = config or BacktestConfig()
    if rank_by not in METRICS:
        raise ValueError(f"rank_by must be one of {', '.join(METRICS)}")
    fast_grid = np.unique(np.asarray(fast_periods, dtype=np.int64))
    slow_grid = np.unique(np.asarray(slow_periods, dtype=np.int64))
    if fast_grid.size == 0 or slow_grid.size == 0 or min(fast_grid[0], slow_grid[0]) < 1:
        raise ValueError("periods must be non-empty lists of positive integers")
    periods = np.union1d(fast_grid, slow_grid)
    averages = np.empty((periods.size, len(bars)))
    fi, si = np.meshgrid(np.arange(fast_grid.size), np.arange(slow_grid.size), indexing="ij")
    valid = fast_grid[fi] < slow_grid[si]
    fast = fast_grid[fi[valid]]
    slow = slow_grid[si[valid]]
    fast_rows = np.searchsorted(periods, fast)
    slow_rows = np.searchsorted(periods, slow)
    values = np.empty((fast.size, len(METRICS)))
    settings = (
        *kernel_settings(config),
        float(config.periods_per_year),
        float(config.risk_free_rate),
    )

    def average(rows: slice) -> None:
        _sweep_kernel.rolling_means(bars.close, periods[rows], averages[rows])

    def run(pairs: IntArray) -> None:
        _sweep_kernel.sweep_sma(
            bars.open, bars.high, bars.low, bars.close, averages, fast_rows, slow_rows,
            pairs, *settings, values,
        )  # fmt: skip

    workers = max(1, min(threads or _cpus(), fast.size))
    chunks = [np.arange(start, fast.size, workers) for start in range(workers)]
    if workers == 1 or not fast.size:
        average(slice(None))
        for chunk in chunks:
            run(chunk)
    else:
        # The kernels release the GIL: plain threads run them in parallel.
        bounds = np.linspace(0, periods.size, workers + 1).astype(np.int64)
        blocks = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(average, blocks))
            list(pool.map(run, chunks))
    scores = values[:, METRICS.index(rank_by)]
    key = scores if rank_by in _ASCENDING else -scores
    order = np.argsort(np.where(np.isnan(key), np.inf, key), kind="stable")
    heatmap = np.full((fast_grid.size, slow_grid.size), np.nan)
    heatmap[fi[valid], si[valid]] = scores
    return SweepResult(
        fast=fast,
        slow=slow,
        values=values,
        rank_by=rank_by,
        order=order,
        fast_periods=fast_grid,
        slow_periods=slow_grid,
        heatmap=heatmap,
    )


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


__all__ = ["METRICS", "SweepResult", "sweep_sma_cross"]
