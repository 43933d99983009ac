"""Exports stream in bounded memory: peak RSS of a fresh process does not grow with the row
count (5 x the rows, within 25 MB), the export adds under 100 MB to what the process held
after its imports, and the whole process stays under the issue's 300 MB (flat in the rows, so
500,000 rows stand for 5,000,000; `make bench` measures 5,000,000). One representative case
runs here:
Parquet, the format that holds the most in flight (row groups gathered to 128 Ki rows, so
500,000 rows span four). `make bench` measures CSV and Parquet on 1,000,000 and 5,000,000 rows
(benchmarks/bench_exports.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPORT_MB = 100  # the export's own share of the peak
PROCESS_MB = 300  # the whole export process (no numba engine: config imports it lazily)


def measure(rows: int, fmt: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.export_memory", str(rows), fmt],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=240,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == rows
    return result


def test_peak_memory_does_not_grow_with_the_rows() -> None:
    small, large = measure(100_000, "parquet"), measure(500_000, "parquet")
    assert large["peak_mb"] - small["peak_mb"] < 25, (small, large)
    assert large["peak_mb"] - large["peak_mb_before"] < EXPORT_MB, large
    assert large["peak_mb"] < PROCESS_MB, large
