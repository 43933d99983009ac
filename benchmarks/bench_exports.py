"""Exports benchmark (issue 13): 1,000,000 bars written as CSV, Parquet and XLSX.

`python -m benchmarks.bench_exports` from the repository root. Prints a table (figures are
copied into docs/benchmarks.md, "Exports"); always exits 0, a missed bar is printed as FAIL.

- writer: quantdesk's writers fed the rows as the pipeline feeds them (10,000-row batches of
  Python tuples -> Arrow -> file), beside the reference, pyarrow writing the same rows from one
  in-memory Arrow table (`pyarrow.csv.write_csv`, `pyarrow.parquet.write_table`). Bars: CSV
  >= 1,000,000 rows/s, Parquet >= 2,000,000 rows/s, XLSX >= 15,000 rows/s (XLSX timed on
  200,000 rows).
- end to end: a fresh process reading the rows from a SQLite file through the real pipeline
  (`tests/support/export_memory.py`), and its peak RSS on 5,000,000 rows (bar: < 300 MB).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from quantdesk.exports.schemas import ExportFormat
from quantdesk.exports.sources import BAR_COLUMNS, arrow_schema, to_batch
from quantdesk.exports.writers import open_writer

ROWS = 1_000_000
XLSX_ROWS = 200_000
BATCH = 10_000
BARS = {"csv": 1_000_000, "parquet": 2_000_000, "xlsx": 15_000}


def rows(count: int) -> list[tuple[int, float, float, float, float, float]]:
    prices = np.random.default_rng(7).random(count) * 100
    ts = 1_600_000_000 + 60 * np.arange(count)
    return list(
        zip(
            ts.tolist(),
            prices.tolist(),
            (prices + 1).tolist(),
            (prices - 1).tolist(),
            prices.tolist(),
            (prices * 10).tolist(),
            strict=True,
        )
    )


def quantdesk_writer(fmt: ExportFormat, data: list[tuple], path: Path) -> float:  # type: ignore[type-arg]
    started = time.perf_counter()
    writer = open_writer(fmt, path, arrow_schema(BAR_COLUMNS), max_rows_per_sheet=1_048_575)
    for start in range(0, len(data), BATCH):
        writer.write(to_batch(BAR_COLUMNS, data[start : start + BATCH]))
    writer.close()
    return time.perf_counter() - started


def reference(fmt: str, table: pa.Table, path: Path) -> float:
    started = time.perf_counter()
    if fmt == "csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path, compression="zstd")
    return time.perf_counter() - started


def end_to_end(count: int, fmt: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.export_memory", str(count), fmt],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    data = rows(ROWS)
    table = pa.Table.from_batches([to_batch(BAR_COLUMNS, data)])
    print(f"Exports, {ROWS:,} bars (time + OHLCV), best of 2")
    print(
        f"{'writer':<10} {'quantdesk rows/s':>17} {'pyarrow rows/s':>15} {'ratio':>6} {'bar':>10}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("csv", "parquet", "xlsx"):
            count = XLSX_ROWS if fmt == "xlsx" else ROWS
            path = Path(folder) / f"out.{fmt}"
            ours = min(
                quantdesk_writer(ExportFormat(fmt), data[:count], path)
                for _ in range(2 if fmt != "xlsx" else 1)
            )
            ours_rate = count / ours
            if fmt == "xlsx":
                ref_text, ratio = "-", "-"
            else:
                ref = min(reference(fmt, table, Path(folder) / f"ref.{fmt}") for _ in range(2))
                ref_text, ratio = f"{ROWS / ref:,.0f}", f"{ref / ours:.2f}"
            verdict = "ok" if ours_rate >= BARS[fmt] else "FAIL"
            print(
                f"{fmt:<10} {ours_rate:>17,.0f} {ref_text:>15} {ratio:>6} "
                f"{BARS[fmt]:>10,} {verdict}"
            )
    print("\nEnd to end from SQLite (fresh process: read + write), and peak RSS")
    for count, fmt in (
        (ROWS, "csv"),
        (ROWS, "parquet"),
        (5_000_000, "parquet"),
        (5_000_000, "csv"),
    ):
        result = end_to_end(count, fmt)
        verdict = "ok" if result["peak_mb"] < 300 else "FAIL"
        print(
            f"{fmt:<8} {count:>10,} rows {count / result['seconds']:>12,.0f} rows/s "
            f"peak {result['peak_mb']:.0f} MB (imports {result['peak_mb_before']:.0f} MB) {verdict}"
        )


if __name__ == "__main__":
    main()
