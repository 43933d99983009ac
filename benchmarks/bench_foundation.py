"""Foundation benchmark: bulk ingest and `GET /bars` against raw-driver references.

Run from the repository root with `make bench` (or `python -m benchmarks.bench_foundation`).

On 1,000,000 synthetic bars (10 symbols x 100,000 one-minute bars) it measures, in one run:

* ingest through quantdesk's own bulk path (`frames.frame_from_arrays`, full validation, then
  `bar_service.ingest`, quote refresh and commit) against a raw stdlib `sqlite3` `executemany`
  of the same rows in one transaction (SQLite) and a raw asyncpg binary `COPY`
  (`copy_records_to_table`) in one transaction (PostgreSQL);
* serving one symbol's 100,000 bars from `GET /api/v1/bars/{symbol}?format=columns` through the
  ASGI app against reading the same rows raw into Python with the driver the app uses: the
  serve path uncached (a unique cache key per request, each a miss; the bar), and the cache
  hit as its own row.

It prints each figure beside its reference, the ratio and the bar from the issue, and rewrites
its own section of docs/benchmarks.md. It always exits 0: a missed bar is printed as FAIL.
The data is `benchmarks/_foundation_data.py`'s, the ingest runs `_foundation_ingest.py`'s and
the serving runs `_foundation_serve.py`'s; this module turns their timings into the report.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import asyncpg
import numpy as np
import orjson
import sqlalchemy
from tests.support.servers import PostgresServer, ServerUnavailable, running_postgres

from benchmarks._docs import (
    DOCS_PATH,
    markdown_table,
    platform_parts,
    print_table,
    render_section,
    write_section,
)
from benchmarks._foundation_data import (
    BARS_PER_SYMBOL,
    SYMBOLS,
    Timings,
    expected_ids,
    make_data,
    sqlite_url,
)
from benchmarks._foundation_ingest import Backend, run_ingest
from benchmarks._foundation_serve import serve_case, serve_postgres, serve_sqlite

# Best of this many interleaved runs. A pure-CPU loop on the 2-core VM this was written on
# varies 60-210 ms from one second to the next, so a few more runs than usual are needed for
# both sides to get a quiet moment; the whole benchmark still takes ~3 minutes there.
INGEST_REPEATS = 5
SERVE_REPEATS = 15

INGEST_BAR = 0.7  # quantdesk rows/s >= 0.7 x reference rows/s
SERVE_BAR = 1.5  # quantdesk seconds <= 1.5 x reference seconds

SECTION_START = "<!-- bench:foundation:start -->"
SECTION_END = "<!-- bench:foundation:end -->"


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    measurement: str
    against: str  # what the reference is, e.g. "sqlite3 executemany, 1 txn"
    quantdesk: str
    reference: str
    ratio: float | None
    bar: str
    passed: bool | None  # None: informational, no bar
    rounds: list[float]  # the same ratio within each interleaved round (machine-noise check)

    @property
    def round_spread(self) -> str:
        ordered = sorted(self.rounds)
        return (
            f"{ordered[0]:.2f} / {ordered[len(ordered) // 2]:.2f} / {ordered[-1]:.2f}x "
            f"over {len(ordered)} rounds"
        )

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "FAIL"


def spread(times: Sequence[float]) -> str:
    ordered = sorted(times)
    return f"min {ordered[0] * 1e3:.1f} / median {ordered[len(ordered) // 2] * 1e3:.1f} ms"


def print_serve(name: str, timings: Timings) -> None:
    print(
        f"  {name}: quantdesk {spread(timings.quantdesk)}; reference {spread(timings.reference)}",
        flush=True,
    )


def fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds / 1e6:.3f} M rows/s ({seconds:.2f} s)"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def ingest_result(name: str, reference_name: str, rows: int, timings: Timings) -> Result:
    quantdesk, reference = timings.best
    ratio = reference / quantdesk  # (rows/quantdesk) / (rows/reference)
    return Result(
        name,
        reference_name,
        fmt_rate(rows, quantdesk),
        f"{fmt_rate(rows, reference)} ({reference_name})",
        ratio,
        f">= {INGEST_BAR:.2f}x rows/s",
        ratio >= INGEST_BAR,
        [r / q for q, r in zip(timings.quantdesk, timings.reference, strict=True)],
    )


def serve_result(name: str, reference_name: str, timings: Timings, *, bar: bool) -> Result:
    quantdesk, reference = timings.best
    ratio = quantdesk / reference
    return Result(
        name,
        reference_name,
        fmt_ms(quantdesk),
        f"{fmt_ms(reference)} ({reference_name})",
        ratio,
        f"<= {SERVE_BAR:.2f}x time" if bar else "-",
        ratio <= SERVE_BAR if bar else None,
        [q / r for q, r in zip(timings.quantdesk, timings.reference, strict=True)],
    )


# --------------------------------------------------------------------------- report


HEADER = ("measurement", "quantdesk", "reference", "ratio", "bar", "result")


def cells(results: Sequence[Result]) -> list[tuple[str, ...]]:
    return [
        (
            r.measurement,
            r.quantdesk,
            r.reference,
            f"{r.ratio:.2f}x" if r.ratio is not None else "-",
            r.bar,
            r.verdict,
        )
        for r in results
    ]


def noise_lines(results: Sequence[Result]) -> list[str]:
    """The ratio within each interleaved round: a wide spread means a noisy machine."""
    return [f"{r.measurement} vs {r.against}: {r.round_spread}" for r in results]


def machine(postgres_version: str | None) -> str:
    parts = [
        *platform_parts(),
        f"SQLite {sqlite3.sqlite_version}",
        f"PostgreSQL {postgres_version}" if postgres_version else "PostgreSQL: not run",
        f"numpy {np.__version__}",
        f"SQLAlchemy {sqlalchemy.__version__}",
        f"aiosqlite {getattr(aiosqlite, '__version__', '?')}",
        f"asyncpg {asyncpg.__version__}",
        f"orjson {orjson.__version__}",
    ]
    return ", ".join(parts)


METHOD = (
    "Data: 10 symbols x 100,000 one-minute bars (regular US sessions, weekdays 14:30-21:00 UTC), "
    "geometric Brownian motion closes in cents, open = previous close, high/low = body plus a "
    "positive random wick, lognormal volume, fixed seed; generated in memory as numpy arrays "
    "before any timing. **Ingest**: quantdesk = `frames.frame_from_arrays` (every validation "
    "rule) + `bar_service.ingest` (bulk write, quote refresh) + commit, one unit of work per "
    "symbol as `quantdesk ingest-csv` does per file, on a freshly migrated database with the "
    "instruments already created; the engine is created before the clock starts. SQLite "
    "reference = stdlib `sqlite3` with quantdesk's PRAGMAs (WAL, synchronous=NORMAL, "
    "foreign_keys=ON), `executemany` of a plain INSERT of all 1,000,000 prebuilt tuples in one "
    "transaction; PostgreSQL reference = asyncpg `copy_records_to_table` (binary COPY) of the "
    "same prebuilt tuples in one transaction. Building the reference tuples is not timed "
    "(they are then frozen out of the garbage collector's way); quantdesk's own conversion "
    "is. Each side runs {ingest} times on fresh migrated databases "
    "(same migrations, same table and indexes), interleaved and alternating who goes first, "
    "after a small warm-up; the best run counts. **Serve**: `GET /api/v1/bars/{{symbol}}"
    "?timeframe=1m&limit=100000&format=columns&start=<first bar>` through `create_app()` under "
    "asgi-lifespan with an httpx `ASGITransport` client, timed until the body bytes are "
    "received (count and `X-Cache` checked outside the timing). The bars cache is on, as "
    "deployed; the *uncached* rows (the serve path: database read, encoding, storing the "
    "answer in the cache) give every request its own key with `&end=<a second later each "
    "time, past the last bar>` (same 100,000 bars, `X-Cache: miss` each time), the *cache "
    "hit* row repeats one warmed URL (`X-Cache: hit`). Both are timed against reading the "
    "same 100,000 rows raw "
    "into Python with the driver the app uses (aiosqlite `fetchall`, asyncpg `fetch`), on "
    "the database quantdesk loaded; stdlib `sqlite3` is shown for information. The app logs "
    "as configured (its access line is formatted) but to /dev/null. One warm-up, then best "
    "of {serve} interleaved runs. PostgreSQL is a throwaway local server "
    "(`tests/support/servers.py`: fsync, synchronous_commit and full_page_writes off)."
)


def section(results: Sequence[Result], info: str, ingest: int, serve: int) -> str:
    return render_section(
        SECTION_START,
        SECTION_END,
        title="Foundation: bulk ingest and `GET /bars`",
        command="`python -m benchmarks.bench_foundation` (part of `make bench`)",
        info=info,
        table=markdown_table(HEADER, cells(results)),
        notes_intro=(
            "Ratio = best quantdesk run against best reference run: for ingest quantdesk rows/s "
            "/ reference rows/s (higher is better), for serving quantdesk time / reference time "
            "(lower is better). The same ratio within each interleaved round (min / median / "
            "max), as a check on machine noise:"
        ),
        notes=noise_lines(results),
        method=METHOD.format(ingest=ingest, serve=serve),
    )


def write_docs(results: Sequence[Result], info: str, ingest: int, serve: int) -> None:
    write_section(section(results, info, ingest, serve), SECTION_START, SECTION_END)


# --------------------------------------------------------------------------- main


def start_postgres(stack: ExitStack) -> PostgresServer | None:
    try:
        return stack.enter_context(running_postgres())
    except ServerUnavailable as error:
        print(f"PostgreSQL not available, skipping its measurements: {error}", file=sys.stderr)
        return None


def postgres_version(server: PostgresServer) -> str:
    async def query() -> str:
        connection = await asyncpg.connect(server.url("postgres", driver=""))
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    return asyncio.run(query())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ingest-repeats", type=int, default=INGEST_REPEATS)
    parser.add_argument("--serve-repeats", type=int, default=SERVE_REPEATS)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite measurements only")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    # Migration chatter and httpx's client-side line per request are not part of the product.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    begun = time.perf_counter()

    print(f"Generating {len(SYMBOLS)} x {BARS_PER_SYMBOL:,} bars ...", flush=True)
    data = make_data()
    ids = expected_ids()
    rows = [row for series in data for row in series.rows(ids[series.symbol])]
    total = len(rows)
    # The prebuilt data lives for the whole run: keep it out of the collector's way so it
    # does not slow down whichever side allocates next.
    gc.collect()
    gc.freeze()

    results: list[Result] = []
    tmp = Path(tempfile.mkdtemp(prefix="quantdesk-bench-"))
    pg_version: str | None = None
    try:
        sqlite = Backend("SQLite", tmp)
        print("SQLite ingest ...", flush=True)
        timings, kept = run_ingest(sqlite, data, rows, args.ingest_repeats)
        results.append(
            ingest_result(
                f"Ingest {total:,} bars, SQLite", "sqlite3 executemany, 1 txn", total, timings
            )
        )
        print("SQLite serve ...", flush=True)
        case = serve_case(sqlite_url(tmp / f"{kept}.db"), data)
        vs_aio, vs_std, hit = asyncio.run(
            serve_sqlite(case, tmp / f"{kept}.db", args.serve_repeats)
        )
        print_serve("SQLite GET /bars uncached vs aiosqlite", vs_aio)
        print_serve("SQLite GET /bars uncached vs sqlite3", vs_std)
        print_serve("SQLite GET /bars cached vs aiosqlite", hit)
        name = f"GET /bars {case.count:,} bars, SQLite"
        results.append(serve_result(f"{name}, uncached", "aiosqlite fetchall", vs_aio, bar=True))
        results.append(
            serve_result(f"{name}, uncached", "stdlib sqlite3 fetchall", vs_std, bar=False)
        )
        results.append(serve_result(f"{name}, cache hit", "aiosqlite fetchall", hit, bar=False))
        sqlite.drop(kept)

        with ExitStack() as stack:
            server = None if args.no_postgres else start_postgres(stack)
            if server is not None:
                pg_version = postgres_version(server)
                postgres = Backend("PostgreSQL", tmp, server)
                print("PostgreSQL ingest ...", flush=True)
                timings, kept = run_ingest(postgres, data, rows, args.ingest_repeats)
                results.append(
                    ingest_result(
                        f"Ingest {total:,} bars, PostgreSQL",
                        "asyncpg binary COPY, 1 txn",
                        total,
                        timings,
                    )
                )
                print("PostgreSQL serve ...", flush=True)
                case = serve_case(server.url(kept), data)
                served, hit = asyncio.run(
                    serve_postgres(case, postgres.dsn(kept), args.serve_repeats)
                )
                print_serve("PostgreSQL GET /bars uncached vs asyncpg", served)
                print_serve("PostgreSQL GET /bars cached vs asyncpg", hit)
                name = f"GET /bars {case.count:,} bars, PostgreSQL"
                results.append(serve_result(f"{name}, uncached", "asyncpg fetch", served, bar=True))
                results.append(serve_result(f"{name}, cache hit", "asyncpg fetch", hit, bar=False))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print_table(HEADER, cells(results))
    print("\nRatio per interleaved round (min / median / max):")
    for line in noise_lines(results):
        print(f"  {line}")
    info = machine(pg_version)
    print(f"\n{info}\nTotal {time.perf_counter() - begun:.0f} s")
    failed = [r.measurement for r in results if r.passed is False]
    if failed:
        print("FAIL: " + "; ".join(failed) + " missed the bar")
    if not args.no_docs:
        write_docs(results, info, args.ingest_repeats, args.serve_repeats)
        print(f"Wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
