"""Time the batch indicators against TA-Lib on 1,000,000 bars; write docs/benchmarks.md.

Run from the repository root: ``python -m benchmarks.bench_indicators`` (part of
``make bench``). The bar: each of RSI, MACD, BBANDS, SMA, EMA and ATR takes at most
1.2x TA-Lib's time; other rows are for information (VWAP and rolling volatility
against pandas: TA-Lib has neither). ``METHOD`` below says how it is measured.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numba
import numpy as np
import pandas as pd
import talib
from llvmlite import binding as llvm  # type: ignore[import-untyped]

from benchmarks._docs import DOCS_PATH, cpu_name, print_table, revision, write_section
from quantdesk.engine import indicators as ind

BARS = 1_000_000
ROUNDS = 9
WARMUP_BARS = 1_000
BAR = 1.2  # quantdesk time <= 1.2 x TA-Lib time, for the required indicators
REQUIRED = ("sma", "ema", "rsi", "macd", "bbands", "atr")

SECTION_START = "<!-- bench:indicators:start -->"
SECTION_END = "<!-- bench:indicators:end -->"

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class Bars(NamedTuple):
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray


@dataclass
class Case:
    key: str
    label: str
    ours: Callable[[Bars], Any]
    reference: Callable[[Bars], Any]
    reference_name: str = "talib"
    ours_ms: list[float] = field(default_factory=list)
    reference_ms: list[float] = field(default_factory=list)
    agreement: str = ""

    @property
    def required(self) -> bool:
        return self.key in REQUIRED

    @property
    def ratio(self) -> float:
        return min(self.ours_ms) / min(self.reference_ms)

    @property
    def round_ratios(self) -> list[float]:
        return [o / r for o, r in zip(self.ours_ms, self.reference_ms, strict=True)]

    @property
    def verdict(self) -> str:
        if not self.required:
            return "info"
        return "PASS" if self.ratio <= BAR else "FAIL"


def make_bars(size: int, seed: int = 1) -> Bars:
    """A geometric random walk (1% per bar) with valid OHLC bars and random volume."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, size)))
    open_ = close * np.exp(rng.normal(0.0, 0.005, size))
    high = np.maximum(open_, close) * (1.0 + rng.uniform(0.0, 0.01, size))
    low = np.minimum(open_, close) * (1.0 - rng.uniform(0.0, 0.01, size))
    volume = rng.integers(1, 1_000_000, size).astype(np.float64)
    return Bars(high, low, close, volume)


def _pandas_vwap(b: Bars) -> Any:
    high, low, close, volume = (pd.Series(column) for column in b)
    weighted = (high + low + close) / 3 * volume
    return weighted.rolling(20).sum() / volume.rolling(20).sum()


def _pandas_volatility(b: Bars) -> Any:
    return pd.Series(np.log(b.close)).diff().rolling(20).std() * math.sqrt(252)


def _talib_adx(b: Bars) -> Any:
    args = (b.high, b.low, b.close, 14)
    return talib.ADX(*args), talib.PLUS_DI(*args), talib.MINUS_DI(*args)


def _same(key: str, label: str, ours: Any, theirs: Any, inputs: str, *args: Any) -> Case:
    """A case where quantdesk and TA-Lib take the same arguments; ``inputs`` names
    the columns by initial (``"hlc"`` = high, low, close)."""
    names = [{"h": "high", "l": "low", "c": "close", "v": "volume"}[c] for c in inputs]

    def columns(b: Bars) -> list[FloatArray]:
        return [getattr(b, name) for name in names]

    return Case(
        key, label, lambda b: ours(*columns(b), *args), lambda b: theirs(*columns(b), *args)
    )


def cases() -> list[Case]:
    return [
        _same("sma", "sma(30)", ind.sma, talib.SMA, "c", 30),
        _same("ema", "ema(30)", ind.ema, talib.EMA, "c", 30),
        _same("rsi", "rsi(14)", ind.rsi, talib.RSI, "c", 14),
        _same("macd", "macd(12,26,9)", ind.macd, talib.MACD, "c", 12, 26, 9),
        _same("bbands", "bbands(20,2)", ind.bbands, talib.BBANDS, "c", 20, 2.0, 2.0),
        _same("atr", "atr(14)", ind.atr, talib.ATR, "hlc", 14),
        _same("wma", "wma(30)", ind.wma, talib.WMA, "c", 30),
        _same("stoch", "stoch(5,3,3)", ind.stoch, talib.STOCH, "hlc"),
        Case("adx", "adx(14)+di", lambda b: ind.adx(b.high, b.low, b.close, 14), _talib_adx),
        _same("obv", "obv", ind.obv, talib.OBV, "cv"),
        _same("roc", "roc(10)", ind.roc, talib.ROC, "c", 10),
        _same("cci", "cci(14)", ind.cci, talib.CCI, "hlc", 14),
        _same("willr", "willr(14)", ind.willr, talib.WILLR, "hlc", 14),
        Case("vwap", "vwap(20)", lambda b: ind.vwap(*b, 20), _pandas_vwap, "pandas"),
        Case(
            "volatility",
            "volatility(20)",
            lambda b: ind.rolling_volatility(b.close, 20),
            _pandas_volatility,
            "pandas",
        ),
    ]


def _outputs(value: Any) -> list[np.ndarray[Any, Any]]:
    values = value if isinstance(value, tuple) else (value,)
    return [np.asarray(item, dtype=np.float64) for item in values]


def agreement(ours: Any, reference: Any) -> str:
    """ "bit-identical", or the largest relative difference (NaN masks must match)."""
    pairs = list(zip(_outputs(ours), _outputs(reference), strict=True))
    if all(np.array_equal(a, b, equal_nan=True) for a, b in pairs):
        return "bit-identical"
    if any(not np.array_equal(np.isnan(a), np.isnan(b)) for a, b in pairs):
        return "NaN mask differs"
    worst = max(float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))) for a, b in pairs)
    return f"max rel. diff {worst:.1e}"


def measure(all_cases: Sequence[Case], bars: Bars, rounds: int) -> None:
    small = make_bars(WARMUP_BARS, seed=2)
    for case in all_cases:
        case.ours(small)  # loads (or compiles) the numba kernels
        case.reference(small)
        case.agreement = agreement(case.ours(bars), case.reference(bars))  # and touches memory
    for round_index in range(rounds):
        for case in all_cases:
            sides = [(case.ours_ms, case.ours), (case.reference_ms, case.reference)]
            if round_index % 2:
                sides.reverse()
            for sink, function in sides:
                # An untimed call first, so that both sides are timed with the allocator
                # in the same state (the previous call's outputs just freed, not another
                # indicator's, whose release may have handed the pages back to the OS).
                function(bars)
                start = time.perf_counter()
                function(bars)
                sink.append((time.perf_counter() - start) * 1e3)


# --------------------------------------------------------------------- first call

FIRST_CALLS = {
    "sma": "ind.sma(c, 30)",
    "ema": "ind.ema(c, 30)",
    "rsi": "ind.rsi(c, 14)",
    "macd": "ind.macd(c)",
    "bbands": "ind.bbands(c, 20, 2.0, 2.0)",
    "atr": "ind.atr(h, lo, c, 14)",
}
# Run as ``python -c``: import, the call twice, then another kernel (willr) once numba's
# compiler target is set up; prints the four durations in seconds.
_FIRST_CALL = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    c = 100.0 * np.exp(np.cumsum(np.random.default_rng(3).normal(0.0, 0.01, 1000)))
    h, lo = c * 1.01, c * 0.99
    marks = [time.perf_counter()]
    from quantdesk.engine import indicators as ind
    marks.append(time.perf_counter())
    for code in (sys.argv[1], sys.argv[1], "ind.willr(h, lo, c, 14)"):
        eval(code)
        marks.append(time.perf_counter())
    print(json.dumps([after - before for before, after in zip(marks, marks[1:])]))
    """
)


def first_calls() -> dict[str, list[float]]:
    """Milliseconds per required indicator: import, first call with a cold numba cache,
    first call with a warm cache, second call, then willr's first call (warm runs)."""
    results = {}
    for key, code in FIRST_CALLS.items():
        with tempfile.TemporaryDirectory(prefix="quantdesk-numba-") as cache:
            runs = [
                json.loads(
                    subprocess.run(
                        [sys.executable, "-c", _FIRST_CALL, code],
                        env={**os.environ, "NUMBA_CACHE_DIR": cache},
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                )
                for _ in ("cold", "warm")
            ]
        (_, cold, _, _), (imported, warm, second, other) = runs
        results[key] = [seconds * 1e3 for seconds in (imported, cold, warm, second, other)]
    return results


# ------------------------------------------------------------------------- report

HEADER = ["indicator", "quantdesk ms", "talib ms", "ratio", "bar", "result", "median ratio"]
HEADER.append("agreement")


def rows(all_cases: Sequence[Case]) -> list[tuple[str, ...]]:
    return [
        (
            case.label + ("" if case.reference_name == "talib" else f" (vs {case.reference_name})"),
            f"{min(case.ours_ms):.2f}",
            f"{min(case.reference_ms):.2f}",
            f"{case.ratio:.2f}x",
            f"<= {BAR:.1f}x" if case.required else "-",
            case.verdict,
            f"{statistics.median(case.round_ratios):.2f}x",
            case.agreement,
        )
        for case in all_cases
    ]


def markdown(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in body]


FIRST_HEADER = [
    "indicator",
    "import ms",
    "first call, cold cache ms",
    "first call, warm cache ms",
    "second call ms",
    "then willr's first call ms",
]


def first_rows(results: dict[str, list[float]]) -> list[tuple[str, ...]]:
    return [
        (key, *(f"{ms:.0f}" for ms in values[:3]), f"{values[3]:.3f}", f"{values[4]:.1f}")
        for key, values in results.items()
    ]


def machine() -> str:
    cpu = cpu_name()
    ta_version = getattr(talib, "__ta_version__", b"?")
    if isinstance(ta_version, bytes):
        ta_version = ta_version.decode()
    return ", ".join(
        [
            f"{os.cpu_count()} CPUs ({cpu}; LLVM target {llvm.get_host_cpu_name()})",
            f"{platform.system()} {platform.release()}",
            f"Python {platform.python_version()}",
            f"numpy {np.__version__}",
            f"numba {numba.__version__}",
            f"TA-Lib {ta_version.split(' ')[0]} (Python wrapper {talib.__version__})",
            f"pandas {pd.__version__}",
        ]
    )


METHOD = (
    "Data: one geometric random walk of {bars:,} bars (1% per bar, fixed seed) with valid "
    "high/low around it and random volume, generated before any timing. quantdesk runs its "
    "own compiled kernels (numba, `cache=True`, `fastmath=False`; no TA-Lib call) through the "
    "public `quantdesk.engine.indicators` functions, argument checks and output allocation "
    "included; TA-Lib runs through its Python wrapper (ADX row = `ADX` + `PLUS_DI` + "
    "`MINUS_DI`, which quantdesk returns together). Warm-up: each function once on {warmup:,} "
    "bars (numba loads its cached machine code, or compiles it) and once on the full input, "
    "whose outputs give the agreement column. Then {rounds} rounds, each timing every "
    "indicator once per side, interleaved, alternating which side goes first; each timed "
    "call follows an untimed call of the same function, so both sides meet the memory "
    "allocator in the same state. Ratio = best quantdesk round / best reference round; "
    "median ratio = median of the per-round ratios. First call: for each required indicator "
    "a fresh `python -c` process imports `quantdesk.engine.indicators` (numba included) and "
    "calls it twice on 1,000 bars, first with an empty numba cache (`NUMBA_CACHE_DIR` set "
    "to a new directory, so the kernels compile), then again with the cache that run left "
    "(the kernels load). Most of a warm first call is numba setting up its compiler target "
    "once per process (with scipy installed, that imports scipy's BLAS bindings); a further "
    "indicator's first call (the last column) only loads its own kernels."
)


def write_docs(all_cases: Sequence[Case], firsts: dict[str, list[float]], rounds: int) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    required = [case for case in all_cases if case.required]
    verdict = "PASS" if all(case.verdict == "PASS" for case in required) else "FAIL"
    section = "\n".join(
        [
            SECTION_START,
            f"## Indicators: {BARS:,} bars against TA-Lib",
            "",
            f"`python -m benchmarks.bench_indicators` (part of `make bench`), run {when} "
            f"on {revision()}.",
            "",
            f"Machine: {machine()}.",
            "",
            f"Bar: RSI, MACD, BBANDS, SMA, EMA and ATR each at most {BAR:.1f}x TA-Lib's time "
            f"on {BARS:,} bars - **{verdict}**. Other rows are for information.",
            "",
            *markdown(HEADER, rows(all_cases)),
            "",
            "First call in a fresh process (the import includes numba; 1,000 bars):",
            "",
            *markdown(FIRST_HEADER, first_rows(firsts)),
            "",
            METHOD.format(bars=BARS, warmup=WARMUP_BARS, rounds=rounds),
            SECTION_END,
        ]
    )
    write_section(section, SECTION_START, SECTION_END)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    all_cases = cases()
    print(f"{BARS:,} bars, best of {ROUNDS} interleaved rounds; {machine()}")
    measure(all_cases, make_bars(BARS), ROUNDS)
    print_table(HEADER, rows(all_cases))
    print("\nfirst call in a fresh process (cold numba cache, then warm):")
    firsts = first_calls()
    print_table(FIRST_HEADER, first_rows(firsts))
    if not args.no_docs:
        write_docs(all_cases, firsts, ROUNDS)
    failed = [case.label for case in all_cases if case.verdict == "FAIL"]
    if failed:
        print("FAIL: " + ", ".join(failed) + f" slower than {BAR:.1f}x TA-Lib")
    if not args.no_docs:
        print(f"\nwrote {DOCS_PATH}")


if __name__ == "__main__":
    main()
