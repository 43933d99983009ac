"""Peak memory of one bars export, measured in a fresh process (tests and `make bench`).

    python -m tests.support.export_memory ROWS FORMAT [BATCH_ROWS]

Builds a SQLite file holding ROWS synthetic one-minute bars (plain sqlite3, no ORM), exports
them through the real pipeline (`quantdesk.exports.pipeline.produce`) and prints one JSON
line: rows exported, file bytes, seconds, and the process's peak RSS in MB before and after
the export (`VmHWM`, else `resource.getrusage`)."""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.exports.pipeline import ExportJob, produce
from quantdesk.exports.schemas import ExportFormat, ExportKind

START = 1_600_000_000


def peak_mb() -> float:
    """This process's peak resident set. Linux's `VmHWM` belongs to the process image, while
    `getrusage`'s ru_maxrss survives exec and so starts at the parent's (pytest's) peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(path: Path, rows: int) -> None:
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE instruments (id INTEGER PRIMARY KEY, symbol TEXT UNIQUE);
        CREATE TABLE bars (instrument_id INTEGER, timeframe TEXT, ts INTEGER, open REAL,
            high REAL, low REAL, close REAL, volume REAL,
            PRIMARY KEY (instrument_id, timeframe, ts));
        INSERT INTO instruments VALUES (1, 'MEM');
        """
    )
    rows_of = (
        (START + 60 * i, i * 0.01, i * 0.01 + 1, i * 0.01 - 1, i * 0.01 + 0.5, float(i % 997))
        for i in range(rows)
    )
    connection.executemany("INSERT INTO bars VALUES (1, '1m', ?, ?, ?, ?, ?, ?)", rows_of)
    connection.commit()
    connection.close()


async def export(path: Path, fmt: ExportFormat, batch_rows: int) -> dict[str, float]:
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{path}")
    db = Database(settings)
    job = ExportJob(ExportKind.BARS, fmt, {"symbol": "MEM", "timeframe": "1m"}, user_id=1)
    before = peak_mb()
    started = time.perf_counter()
    try:
        produced = await produce(
            db,
            job,
            path.with_suffix(f".{fmt.value}"),
            batch_rows=batch_rows,
            max_rows_per_sheet=1_048_575,
        )
    finally:
        await db.dispose()
    return {
        "rows": produced.rows,
        "bytes": produced.bytes,
        "seconds": time.perf_counter() - started,
        "peak_mb_before": before,
        "peak_mb": peak_mb(),
    }


def main() -> None:
    rows, fmt = int(sys.argv[1]), ExportFormat(sys.argv[2])
    batch_rows = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bars.db"
        build(path, rows)
        print(json.dumps(asyncio.run(export(path, fmt, batch_rows))))


if __name__ == "__main__":
    main()
