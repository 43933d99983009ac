"""Market overview benchmark (issue 14): summary, movers, sectors and screener latency over
10,000 synthetic symbols, and the market.refresh job's duration, on SQLite and PostgreSQL.

`python -m benchmarks.bench_research_market` from the repository root (part of `make bench`).
Prints a table and writes docs/benchmarks.md ("Market overview and screener"); always exits 0,
a missed bar is printed as FAIL. Bars: p99 <= 50 ms for summary and movers (read from the
materialized view / summary table), screener p99 <= 200 ms, refresh <= 2 s on PostgreSQL
(informational on SQLite).
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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from asgi_lifespan import LifespanManager
from sqlalchemy import insert
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
from quantdesk.analytics.market.service import market_service
from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import AssetClass, Bar, FundamentalsSnapshot, Instrument

SYMBOLS = 10_000
SESSIONS = 260
LAST_DAY = date(2024, 3, 15)
TODAY = date(2024, 3, 16)
REQUESTS = 300
WARMUP = 20
REFRESHES = 3
SECTORS = (
    "Technology", "Health Care", "Financials", "Consumer Discretionary", "Communication Services",
    "Industrials", "Consumer Staples", "Energy", "Utilities", "Real Estate", "Materials",
)  # fmt: skip
SECTION_START = "<!-- bench:research_market:start -->"
SECTION_END = "<!-- bench:research_market:end -->"
SCREEN = {
    "filters": [
        {"field": "change_pct", "op": "gt", "value": 0},
        {"field": "rsi_14", "op": "lt", "value": 70},
        {"field": "sector", "op": "in", "value": ["Technology", "Energy", "Financials"]},
    ],
    "sort": "-market_cap",
    "limit": 50,
}


def data_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Instruments, daily bars (random walks) and one fundamentals snapshot per symbol."""
    rng = np.random.default_rng(14)
    end = int(np.datetime64(LAST_DAY.isoformat(), "s").astype(np.int64))
    ts = end - 86_400 * np.arange(SESSIONS - 1, -1, -1, dtype=np.int64)
    instruments, bars, fundamentals = [], [], []
    for index in range(SYMBOLS):
        iid = index + 1
        symbol = f"SYN{index:05d}"
        instruments.append(
            {
                "id": iid,
                "symbol": symbol,
                "name": f"Synthetic {index}",
                "exchange": "XBENCH",
                "asset_class": AssetClass.EQUITY,
                "currency": "USD",
                "sector": SECTORS[index % len(SECTORS)],
                "country": "US",
            }
        )
        close = rng.uniform(2, 500) * np.exp(np.cumsum(rng.normal(0, 0.02, SESSIONS)))
        open_ = np.concatenate(([close[0]], close[:-1]))
        volume = rng.lognormal(11, 1.5, SESSIONS).round()
        for k in range(SESSIONS):
            high, low = max(open_[k], close[k]) * 1.005, min(open_[k], close[k]) * 0.995
            bars.append(
                {
                    "instrument_id": iid,
                    "timeframe": "1d",
                    "ts": int(ts[k]),
                    "open": float(open_[k]),
                    "high": float(high),
                    "low": float(low),
                    "close": float(close[k]),
                    "volume": float(volume[k]),
                }
            )
        fundamentals.append(
            {
                "symbol": symbol,
                "as_of": date(2023, 12, 31),
                "values": {
                    "shares_outstanding": float(rng.uniform(1e7, 5e9)),
                    "diluted_earnings_per_share": float(rng.normal(3, 4)),
                },
                "provider": "bench",
            }
        )
    return instruments, bars, fundamentals


async def load(db: Database, rows: tuple[list[Any], list[Any], list[Any]]) -> None:
    instruments, bars, fundamentals = rows
    async with db.session() as session:
        await session.execute(insert(Instrument), instruments)
        await session.execute(insert(FundamentalsSnapshot), fundamentals)
    for start in range(0, len(bars), 100_000):
        async with db.session() as session:
            await session.execute(insert(Bar), bars[start : start + 100_000])


@dataclass
class Measure:
    name: str
    backend: str
    times: list[float]
    bar_ms: float | None

    def pct(self, q: float) -> float:
        return float(np.percentile(np.asarray(self.times) * 1000, q))

    @property
    def verdict(self) -> str:
        if self.bar_ms is None:
            return "info"
        return "PASS" if self.pct(99) <= self.bar_ms else "FAIL"


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


async def run_backend(name: str, url: str, rows: Any) -> tuple[list[Measure], list[float]]:
    migrate.upgrade(url)
    # Anonymous reads at full speed: the rate limiter is measured by bench_access.
    settings = Settings(_env_file=None, database_url=url, rate_limit_enabled=False)
    db = Database(settings)
    try:
        await load(db, rows)
        refreshes = []
        for _ in range(REFRESHES):
            started = time.perf_counter()
            async with db.session() as session:
                outcome = await market_service.refresh(session, settings, today=TODAY)
            refreshes.append(time.perf_counter() - started)
            assert outcome.snapshot_rows == SYMBOLS, outcome
    finally:
        await db.dispose()
    app = create_app(settings)
    measures: list[Measure] = []
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            first = (await client.post("/api/v1/screener", json=SCREEN)).json()
            assert first["meta"]["total"] > 1_000, first["meta"]
            assert len(first["data"]) == 50, first["meta"]
            follow = {**SCREEN, "cursor": first["meta"]["next_cursor"]}
            calls: list[tuple[str, float | None, Callable[[], Awaitable[httpx.Response]]]] = [
                ("GET /market/summary", 50, lambda: client.get("/api/v1/market/summary")),
                (
                    "GET /market/movers?kind=gainers&limit=25",
                    50,
                    lambda: client.get("/api/v1/market/movers?kind=gainers&limit=25"),
                ),
                (
                    "GET /market/movers?kind=active&limit=100",
                    50,
                    lambda: client.get("/api/v1/market/movers?kind=active&limit=100"),
                ),
                ("GET /market/sectors", 50, lambda: client.get("/api/v1/market/sectors")),
                (
                    "POST /screener (3 filters, sort -market_cap, 50 rows)",
                    200,
                    lambda: client.post("/api/v1/screener", json=SCREEN),
                ),
                (
                    "POST /screener, next page (cursor)",
                    200,
                    lambda: client.post("/api/v1/screener", json=follow),
                ),
            ]
            for label, bar, call in calls:
                print(f"  {name}: {label} ...", flush=True)
                measures.append(Measure(label, name, await timed(call), bar))
    return measures, refreshes


def refresh_row(backend: str, times: list[float], bar_s: float | None) -> list[str]:
    later = times[1:]
    verdict = "info" if bar_s is None else ("PASS" if max(later) <= bar_s else "FAIL")
    return [
        f"market.refresh, 10,000 symbols x {SESSIONS} sessions",
        backend,
        f"first {times[0]:.2f} s",
        "later " + ", ".join(f"{t:.2f} s" for t in later),
        "<= 2 s" if bar_s is not None else "-",
        verdict,
    ]


HEADER = ("measurement", "database", "p50", "p99", "bar (p99)", "result")


def table(measures: list[Measure], refreshes: dict[str, list[float]]) -> list[list[str]]:
    body = [
        [
            m.name,
            m.backend,
            f"{m.pct(50):.1f} ms",
            f"{m.pct(99):.1f} ms",
            f"<= {m.bar_ms:.0f} ms" if m.bar_ms else "-",
            m.verdict,
        ]
        for m in measures
    ]
    for backend, times in refreshes.items():
        body.append(refresh_row(backend, times, 2.0 if backend == "PostgreSQL" else None))
    return body


METHOD = (
    "Data: 10,000 synthetic equities (11 sectors) x 260 daily bars each (2.6 M bars, random "
    "walks, lognormal volume, fixed seed) and one fundamentals snapshot each (shares "
    "outstanding, diluted EPS), bulk-inserted into a freshly migrated database. "
    "**market.refresh** = `market_service.refresh` in one unit of work: read every "
    "instrument's last 261 daily closes and its last 5 full bars in two statements straight "
    "into numpy (SQLite: a materialized window-start probe per instrument, then range reads; "
    "PostgreSQL: LATERAL index walks through binary COPY), compute session, change, "
    "RSI(14), SMA(50/200) with the engine, market cap "
    "and P/E, rewrite `market_snapshot`, then refresh the three materialized views "
    "(PostgreSQL: the first refresh is plain, later ones CONCURRENTLY) or rebuild the three "
    "tables (SQLite), and commit; run 3 times. **Latency**: each route through `create_app()` "
    "under asgi-lifespan with an httpx `ASGITransport` client (routing, auth policy, "
    "validation, serialization included), 20 warm-up requests then 300 timed, one at a time; "
    "p50 and p99 of the 300. The machine is shared (2 cores, other work running), so the "
    "tail includes scheduling noise."
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("quantdesk.access").setLevel(logging.WARNING)
    print(f"Generating {SYMBOLS:,} symbols x {SESSIONS} daily bars ...", flush=True)
    rows = data_rows()
    measures: list[Measure] = []
    refreshes: dict[str, list[float]] = {}
    pg_version = "not run"
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qd-market-")))
        print("SQLite ...", flush=True)
        found, refreshes["SQLite"] = asyncio.run(
            run_backend("SQLite", f"sqlite+aiosqlite:///{tmp / 'market.db'}", rows)
        )
        measures += found
        if not args.no_postgres:
            try:
                server = stack.enter_context(running_postgres())
            except ServerUnavailable as error:
                print(f"PostgreSQL not available: {error}", file=sys.stderr)
            else:
                server.create_database("bench_market")
                print("PostgreSQL ...", flush=True)
                found, refreshes["PostgreSQL"] = asyncio.run(
                    run_backend("PostgreSQL", server.url("bench_market"), rows)
                )
                measures += found
                pg_version = "local throwaway server"
    body = table(measures, refreshes)
    print_table(HEADER, body)
    if not args.no_docs:
        info = ", ".join(
            [
                *platform_parts(),
                f"SQLAlchemy {package_version('sqlalchemy')}",
                f"asyncpg {package_version('asyncpg')}",
                f"PostgreSQL: {pg_version}",
            ]
        )
        section = render_section(
            SECTION_START,
            SECTION_END,
            title="Market overview and screener",
            command="`python -m benchmarks.bench_research_market` (part of `make bench`)",
            info=info,
            table=markdown_table(HEADER, body),
            notes=[
                "Screener query: 3 filters (change_pct > 0, rsi_14 < 70, sector in 3 of 11) "
                "sorted by market cap descending, 50 rows a page; the next page continues from "
                "the first page's cursor.",
                "Summary and movers read the materialized view (PostgreSQL) or summary table "
                "(SQLite) the refresh built; the screener reads `market_snapshot`.",
            ],
            method=METHOD,
        )
        write_section(section, SECTION_START, SECTION_END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
