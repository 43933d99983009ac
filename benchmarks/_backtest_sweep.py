"""The backtest benchmark's sweep rows: 100 SMA pairs through `sweep_sma_cross` against the
same 100 backtests run one by one, on one thread (the bar) and on two (information).

The machine the benchmark runs on is shared, so each round times the sweep and the separate
runs back to back (alternating which goes first) and the figures are medians over rounds: a
burst of load elsewhere moves one round's ratio, not the median. The one-thread bar is judged
on the calling thread's CPU time (time spent waiting for a CPU is not the sweep's cost); the
wall-clock figures are reported beside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from benchmarks._backtest_engines import CONFIG, Data
from quantdesk.engine.backtest import BacktestResult, Bars, SmaCross, backtest_bars, sweep_sma_cross

SWEEP_BARS = 100_000
SWEEP_FAST = tuple(range(5, 55, 5))  # 10 x 10 = 100 pairs, all fast < slow
SWEEP_SLOW = tuple(range(60, 160, 10))
SWEEP_BAR = 5.0  # sweep >= 5 x faster than separate runs, on one thread
SWEEP_REPEATS = 15  # rounds: the sweep takes tens of milliseconds, a busy machine's jitter
THREADS = (1, 2)
_NUMBA_MAX_THREADS: int = getattr(numba.config, "NUMBA_NUM_THREADS", 1)


@dataclass
class _Times:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this thread's CPU time


def _rounds(
    ours: Callable[[], Any], theirs: Callable[[], Any], repeats: int
) -> tuple[_Times, _Times]:
    """Seconds of each side per round, alternating who goes first: wall clock, and CPU
    time of the calling thread (what one thread spent, whatever else ran on the machine)."""
    mine, other = _Times(), _Times()
    for round_ in range(repeats):
        for side in (ours, theirs) if round_ % 2 == 0 else (theirs, ours):
            times = mine if side is ours else other
            wall, cpu = time.perf_counter(), time.thread_time()
            side()
            times.cpu.append(time.thread_time() - cpu)
            times.wall.append(time.perf_counter() - wall)
    return mine, other


def _ratios(mine: list[float], other: list[float]) -> list[float]:
    return [o / m for m, o in zip(mine, other, strict=True)]


def measure_sweep(
    data: Data,
    notes: list[str],
    row: Callable[..., Any],
    ms: Callable[[float], str],
    repeats: int = SWEEP_REPEATS,
) -> list[Any]:
    """The sweep rows (``row(measurement, quantdesk, reference, ratio, bar, passed)``)."""
    b = data.bars
    bars = Bars.of(
        b.open[:SWEEP_BARS], b.high[:SWEEP_BARS], b.low[:SWEEP_BARS], b.close[:SWEEP_BARS]
    )
    pairs = [(f, s) for f in SWEEP_FAST for s in SWEEP_SLOW]

    def separate() -> list[BacktestResult]:
        return [backtest_bars(bars, strategy=SmaCross(f, s), config=CONFIG) for f, s in pairs]

    singles = separate()  # warm-up and the cross-check
    rows: list[Any] = []
    before = numba.get_num_threads()
    try:
        for threads in THREADS:
            print(
                f"Sweep of {len(pairs)} SMA pairs on {SWEEP_BARS:,} bars, {threads} thread(s) ..."
            )
            numba.set_num_threads(min(threads, _NUMBA_MAX_THREADS))

            def sweep(threads: int = threads) -> Any:
                return sweep_sma_cross(bars, SWEEP_FAST, SWEEP_SLOW, CONFIG, threads=threads)

            same = _same(sweep(), singles)
            mine, other = _rounds(sweep, separate, repeats)
            wall = statistics.median(_ratios(mine.wall, other.wall))
            label = f"Sweep of {len(pairs)} SMA pairs, {SWEEP_BARS:,} bars, {threads} thread"
            if threads == 1:
                # One thread: judged on CPU time, which waiting for a busy machine's CPUs
                # does not inflate; the wall-clock ratio is in the notes.
                cpu = statistics.median(_ratios(mine.cpu, other.cpu))
                cpu_rounds = _spread(_ratios(mine.cpu, other.cpu))
                wall_rounds = _spread(_ratios(mine.wall, other.wall))
                notes.append(
                    f"Sweep on 1 thread: figures {'equal' if same else 'DIFFER from'} the "
                    f"separate runs; CPU-time ratio per round {cpu_rounds}x (median {cpu:.1f}x); "
                    f"wall-clock ratio per round {wall_rounds}x (median {wall:.1f}x); sweep "
                    f"median {ms(statistics.median(mine.cpu))} CPU / "
                    f"{ms(statistics.median(mine.wall))} wall, separate median "
                    f"{ms(statistics.median(other.cpu))} CPU / "
                    f"{ms(statistics.median(other.wall))} wall."
                )
                rows.append(
                    row(
                        f"{label}, CPU time; same figures: {same}",
                        ms(statistics.median(mine.cpu)),
                        f"{ms(statistics.median(other.cpu))} ({len(pairs)} separate backtests)",
                        f"{cpu:.1f}x faster (median of {repeats}; wall {wall:.1f}x)",
                        f">= {SWEEP_BAR:.0f}x faster",
                        cpu >= SWEEP_BAR and same,
                    )
                )
                continue
            notes.append(
                f"Sweep on {threads} threads: figures {'equal' if same else 'DIFFER from'} the "
                f"separate runs (one thread); wall-clock ratio per round "
                f"{_spread(_ratios(mine.wall, other.wall))}x."
            )
            rows.append(
                row(
                    f"{label}s, wall clock; same figures: {same}",
                    ms(statistics.median(mine.wall)),
                    f"{ms(statistics.median(other.wall))} ({len(pairs)} separate backtests)",
                    f"{wall:.1f}x faster (median of {repeats})",
                    "-",
                    None,
                )
            )
    finally:
        numba.set_num_threads(before)
    return rows


def _same(result: Any, singles: Sequence[BacktestResult]) -> bool:
    equity = result.column("equity_final")
    return all(
        np.isclose(equity[k], single.stats["equity_final"] or 0.0, rtol=1e-12)
        and result.column("trades")[k] == single.stats["trades"]
        for k, single in enumerate(singles)
    )


def _spread(ratios: Sequence[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in sorted(ratios))
