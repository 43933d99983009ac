"""Cache benchmark: cached quotes against uncached ones, and single-flight on a cold key.

Run from the repository root with `python -m benchmarks.bench_cache`.

The issue's bars (issue 5, Performance): a cached `GET /api/v1/quotes/{symbol}` (cache hit)
serves at least 5x the requests/s of the same request with the cache disabled when the
provider answers in 20 ms (a local fake provider), same run; and 1,000 concurrent requests
for one cold key cause exactly one provider call, shown by the provider's own counter.

A fake Polygon (`benchmarks/_fake_polygon.py`, its own process) answers snapshot quotes after
20 ms and counts them. Two uvicorn servers of the real app (`quantdesk.main:app`, one worker,
127.0.0.1) on copies of one temporary SQLite database with the demo data and an API key
(made as bench_access makes it), both with `QUANTDESK_PROVIDERS_QUOTES=polygon` pointed at the
fake: A with the cache (warmed first), B with `QUANTDESK_CACHE_ENABLED=false`. loadgen drives
them in interleaved rounds; the fake's counter, read around every round, shows that A's
requests never reached the provider and B's each did. Then a fresh server C (cache enabled,
cold key) and a fresh fake receive 1,000 requests at once on 1,000 connections opened
beforehand; the fake's counter must read 1. Always exits 0: a missed bar is printed as FAIL.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._burst import Burst, burst
from benchmarks._docs import DOCS_PATH, markdown_table, print_table, revision, write_section
from benchmarks._fake_polygon import FakeProvider, fake_provider
from benchmarks._processes import exit_on_signal
from benchmarks.bench_access import (
    TIER_LIMIT,
    LoadShape,
    Prepared,
    Round,
    Server,
    Side,
    machine,
    measure,
    prepare,
    print_round,
    running,
)
from benchmarks.loadgen import check_load_args, fetch_sync

SYMBOL = "GOOG"
QUOTE_PATH = f"/api/v1/quotes/{SYMBOL}"
WARM_PATH = f"/api/v1/instruments/{SYMBOL}"  # authenticates without touching the quotes cache
READY_PATH = "/health/ready"
PROVIDER_DELAY_MS = 20.0
# How long the fake holds the single-flight run's one answer: long enough that all 1,000
# requests reach the cache while that one call is still in flight.
STAMPEDE_DELAY_MS = 2000.0
STAMPEDE = 1_000

CONNECTIONS = 32
ROUNDS = 3
ROUND_SECONDS = 4.0
WARMUP_SECONDS = 1.0
SPEEDUP_BAR = 5.0

SECTION_START = "<!-- bench:cache:start -->"
SECTION_END = "<!-- bench:cache:end -->"


# --------------------------------------------------------------------------- servers


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included) through the backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def quantdesk(
    name: str, tmp: Path, prepared: Prepared, provider: FakeProvider, **extra: str
) -> Server:
    """A uvicorn server of the real app on its own copy of the prepared database, its
    quotes chain the fake Polygon, the provider budget out of the way (no spacing, far more
    concurrency than connections)."""
    database = tmp / name / "quantdesk.db"
    copy_database(tmp / "access.db", database)
    env = {
        **prepared.env,
        "QUANTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "QUANTDESK_PROVIDERS_QUOTES": "polygon",
        "QUANTDESK_POLYGON_BASE_URL": provider.url,
        "QUANTDESK_POLYGON_API_KEY": "bench-" + secrets.token_urlsafe(16),
        "QUANTDESK_PROVIDERS_CONCURRENCY": "2048",
        "QUANTDESK_PROVIDERS_RATE_PER_SECOND": "0",
        "QUANTDESK_PROVIDERS_BUDGET_MAX_WAIT_SECONDS": "30",
        # One hour fresh: every request of run A is a hit however long the run takes (the
        # default 30 s would turn late requests into stale answers and refreshes).
        "QUANTDESK_CACHE_TTL_SECONDS": '{"quotes": 3600}',
        **extra,
    }
    return Server(name, "quantdesk.main:app", env, tmp, tmp / f"{name}.log")


def get_json(server: Server, path: str, api_key: str) -> tuple[int, dict[str, str], Any]:
    answer = fetch_sync(server.target(path, {"X-API-Key": api_key}))
    return answer.status, answer.headers, json.loads(answer.body) if answer.body else {}


def check_quote(server: Server, api_key: str, expect_cache: str) -> int:
    """One quote through `server`: 200 from polygon with the expected X-Cache; body size."""
    status, headers, body = get_json(server, QUOTE_PATH, api_key)
    if status != 200:
        raise RuntimeError(f"{server.name} answered {status}: {body}")
    provider = body["meta"]["provider"]
    if provider != "polygon" or headers.get("x-cache") != expect_cache:
        raise RuntimeError(
            f"{server.name}: provider {provider!r}, X-Cache {headers.get('x-cache')!r} "
            f"(expected polygon, {expect_cache})"
        )
    return len(json.dumps(body))


# --------------------------------------------------------------------------- runs A and B


@dataclass
class Counted:
    side: Side
    provider_calls: list[int] = field(default_factory=list)  # per round

    def requests(self) -> int:
        return sum(r.load.requests for r in self.side.rounds)


def interleave(sides: Sequence[Counted], shape: LoadShape, provider: FakeProvider) -> None:
    for counted in sides:
        warm = measure(counted.side, shape, shape.warmup_seconds)
        counted.side.warmup = warm.load
        print_round("warm-up", counted.side, warm)
    for index in range(shape.rounds):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        for counted in order:
            before = provider.count()
            result: Round = measure(counted.side, shape, shape.round_seconds)
            calls = provider.count() - before
            counted.side.rounds.append(result)
            counted.provider_calls.append(calls)
            print_round(f"round {index + 1}/{shape.rounds}", counted.side, result)
            print(f"    provider calls during the round: {calls:,}", flush=True)


# --------------------------------------------------------------------------- single-flight


@dataclass
class Stampede:
    burst: Burst
    provider_calls: int


def stampede(server: Server, provider: FakeProvider, api_key: str, count: int) -> Stampede:
    # Authenticate once first (the API key's lookup is cached a few seconds), so the 1,000
    # requests meet a warm key and a cold quote.
    status, _, body = get_json(server, WARM_PATH, api_key)
    if status != 200:
        raise RuntimeError(f"{server.name} answered {status} to {WARM_PATH}: {body}")
    before = provider.count()
    if before:
        raise RuntimeError(f"the fake provider was called {before} times before the stampede")
    sent = burst(server.target(QUOTE_PATH, {"X-API-Key": api_key}), count, header="X-Cache")
    return Stampede(sent, provider.count() - before)


# --------------------------------------------------------------------------- report


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def counts(values: dict[int, int] | dict[str, int]) -> str:
    return ", ".join(f"{key}: {value:,}" for key, value in sorted(values.items())) or "none"


@dataclass
class Results:
    a: Counted
    b: Counted
    flight: Stampede
    shape: LoadShape
    stampede_delay_ms: float

    @property
    def ratio(self) -> float:
        return self.a.side.best_rps() / self.b.side.best_rps()

    def a_clean(self) -> bool:
        """Every A request answered 200 without reaching the provider (all hits)."""
        side = self.a.side
        return (
            set(side.statuses()) == {200} and not side.errors() and not sum(self.a.provider_calls)
        )

    def b_clean(self) -> bool:
        side = self.b.side
        return set(side.statuses()) == {200} and not side.errors()

    def flight_ok(self) -> bool:
        return self.flight.provider_calls == 1 and self.flight.burst.statuses == {200: STAMPEDE}

    def rows(self) -> list[tuple[str, str, str, str]]:
        a, b, n = self.a.side, self.b.side, len(self.a.side.rounds)

        def med(side: Side, pick: str) -> float:
            return side.median(lambda r: float(getattr(r.load, pick)))

        flight = self.flight
        return [
            (
                f"requests/s, best of {n}: A cached / B cache disabled",
                f"{a.best_rps():,.0f} / {b.best_rps():,.0f} = {self.ratio:.1f}x",
                f">= {SPEEDUP_BAR:g}x",
                verdict(self.ratio >= SPEEDUP_BAR and self.a_clean() and self.b_clean()),
            ),
            (
                f"requests/s, median of {n}: A / B",
                f"{med(a, 'rps'):,.0f} / {med(b, 'rps'):,.0f} = "
                f"{med(a, 'rps') / med(b, 'rps'):.1f}x",
                "-",
                "info",
            ),
            (
                f"p50 / p99 latency, median of {n}: A",
                f"{med(a, 'p50_ms'):.2f} / {med(a, 'p99_ms'):.2f} ms",
                "-",
                "info",
            ),
            (
                f"p50 / p99 latency, median of {n}: B",
                f"{med(b, 'p50_ms'):.2f} / {med(b, 'p99_ms'):.2f} ms",
                "-",
                "info",
            ),
            (
                "provider calls during A's rounds / A's requests",
                f"{sum(self.a.provider_calls):,} / {self.a.requests():,}",
                "0 (all hits)",
                verdict(self.a_clean()),
            ),
            (
                "provider calls during B's rounds / B's requests",
                f"{sum(self.b.provider_calls):,} / {self.b.requests():,}",
                "one per request",
                "info",
            ),
            (
                f"{STAMPEDE:,} concurrent requests, cold key: provider calls",
                f"{flight.provider_calls}",
                "exactly 1",
                verdict(self.flight_ok()),
            ),
            (
                f"{STAMPEDE:,} concurrent requests: statuses; X-Cache",
                f"{counts(flight.burst.statuses)}; {counts(flight.burst.header)}",
                "-",
                "info",
            ),
        ]


HEADER = ("measurement", "figure", "bar", "result")

METHOD = (
    "Fake provider: `benchmarks/_fake_polygon.py` in its own process, raw asyncio HTTP/1.1 "
    "keep-alive on 127.0.0.1, answering Polygon's snapshot format after {delay:g} ms "
    "(`asyncio.sleep`) and counting snapshot requests; its counter (`GET /_count`) is read "
    "before and after every round. Servers: `uvicorn quantdesk.main:app --host 127.0.0.1 "
    "--workers 1 --no-access-log --log-level warning` on copies of one temporary SQLite "
    "database with the demo data, a premium user and an API key sent as `X-API-Key` (the "
    "premium tier raised to `{tier}` so no request is refused, each still counted), "
    "`QUANTDESK_PROVIDERS_QUOTES=polygon` pointed at the fake. The provider request budget "
    "is out of the way: `QUANTDESK_PROVIDERS_CONCURRENCY=2048` (more than any run's "
    "connections), `QUANTDESK_PROVIDERS_RATE_PER_SECOND=0` (no spacing), so B is bound by "
    "the 20 ms answers and the server's own work, not by quantdesk's budget. Fetch records "
    "stay on (`provider_fetches`, as by default), so each B request also writes its fetch "
    "record and upserts the quote. Quotes TTL raised to 1 h "
    '(`QUANTDESK_CACHE_TTL_SECONDS={{"quotes": 3600}}`) so no request of A turns stale. '
    "**A**: cache enabled (memory), warmed by one miss before the load. **B**: "
    "`QUANTDESK_CACHE_ENABLED=false`, same request, each one a provider call. Load: "
    "`benchmarks/loadgen.py`, {connections} keep-alive connections in one client process, "
    "closed loop; {warmup:g} s warm-up, then {rounds} rounds of {seconds:g} s per server, A "
    "and B interleaved and alternating who goes first ({total:g} s of load each). "
    "**Single-flight**: a fresh server C (cache enabled, its own database copy) and a fresh "
    "fake provider holding each answer {stampede_delay:g} ms, so that all {stampede:,} "
    "requests reach the cache while the one provider call is still in flight (a waiter on "
    "that call answers `X-Cache: miss`, a later request `hit`). The API key is authenticated "
    "once first (`GET /instruments/{symbol}`, no provider call; the fake's counter is checked "
    "to be 0). Then {stampede:,} connections are opened, and only once all are open is the "
    "same request written on every one of them in a single pass of the event loop (no await "
    "between writes), then every answer is read; the fake's counter is read afterwards."
)


def cpu_ms(side: Side) -> float:
    """Server CPU milliseconds per answered request over all rounds."""
    cpu = sum(r.server_cpu_s for r in side.rounds)
    return cpu * 1000 / max(1, sum(r.load.requests for r in side.rounds))


def section(results: Results, info: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    shape, flight, a, b = results.shape, results.flight, results.a.side, results.b.side
    sent = flight.burst
    method = METHOD.format(
        delay=PROVIDER_DELAY_MS,
        tier=TIER_LIMIT,
        connections=shape.connections,
        warmup=shape.warmup_seconds,
        rounds=shape.rounds,
        seconds=shape.round_seconds,
        total=shape.warmup_seconds + shape.rounds * shape.round_seconds,
        stampede_delay=results.stampede_delay_ms,
        stampede=STAMPEDE,
        symbol=SYMBOL,
    )
    ratios = [x.load.rps / y.load.rps for x, y in zip(a.rounds, b.rounds, strict=True)]
    notes = [
        f"Statuses, A: {a.status_text()}; B: {b.status_text()}.",
        "requests/s A/B within each round, lowest to highest: "
        + " / ".join(f"{value:.1f}x" for value in sorted(ratios))
        + ".",
        f"Provider calls per B round: {', '.join(f'{n:,}' for n in results.b.provider_calls)}; "
        f"B requests per round: {', '.join(f'{r.load.requests:,}' for r in b.rounds)}.",
        f"Server CPU while loaded (median): A {a.median(lambda r: r.server_cpu):.0%}, "
        f"B {b.median(lambda r: r.server_cpu):.0%} of a core; other CPU on the machine: "
        f"A {a.median(lambda r: r.other_cpu):.0%}, B {b.median(lambda r: r.other_cpu):.0%}. "
        f"Server CPU per request: A {cpu_ms(a):.2f} ms, B {cpu_ms(b):.2f} ms (B's miss path: "
        "a read unit of work, the provider call through the chain with its quality check, "
        "the fetch record's own transaction and the quote upsert).",
        f"Single-flight: {sent.requests:,} connections opened in {sent.connect_s:.2f} s; "
        f"all {sent.requests:,} requests written within {sent.send_s * 1000:.1f} ms; all "
        f"answered {sent.answered_s:.2f} s after the first write.",
    ]
    return "\n".join(
        [
            SECTION_START,
            f"## Cache: cached `GET {QUOTE_PATH}` against the cache disabled, and single-flight",
            "",
            f"`python -m benchmarks.bench_cache`, run {when} on {revision()}.",
            "",
            f"Machine: {info}.",
            "",
            *markdown_table(HEADER, results.rows()),
            "",
            *(f"- {line}" for line in notes),
            "",
            method,
            SECTION_END,
        ]
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--round-seconds", type=float, default=ROUND_SECONDS)
    parser.add_argument("--warmup-seconds", type=float, default=WARMUP_SECONDS)
    parser.add_argument("--stampede-delay-ms", type=float, default=STAMPEDE_DELAY_MS)
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    check_load_args(parser, args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    shape = LoadShape(args.connections, 1, args.rounds, args.round_seconds, args.warmup_seconds)
    info = machine()
    begun = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="quantdesk-bench-cache-"))
    try:
        print("Preparing the database (demo data, premium user, API key) ...", flush=True)
        prepared = prepare(tmp, TIER_LIMIT)
        key = prepared.api_key
        with ExitStack() as stack:
            provider = stack.enter_context(fake_provider(PROVIDER_DELAY_MS, tmp / "fake.log"))
            server_a = stack.enter_context(
                running(quantdesk("A", tmp, prepared, provider), READY_PATH)
            )
            server_b = stack.enter_context(
                running(
                    quantdesk("B", tmp, prepared, provider, QUANTDESK_CACHE_ENABLED="false"),
                    READY_PATH,
                )
            )
            check_quote(server_a, key, "miss")  # warms A's cache
            check_quote(server_a, key, "hit")
            check_quote(server_b, key, "miss")
            check_quote(server_b, key, "miss")
            a = Counted(
                Side("A cached  ", server_a, server_a.target(QUOTE_PATH, {"X-API-Key": key}))
            )
            b = Counted(
                Side("B no cache", server_b, server_b.target(QUOTE_PATH, {"X-API-Key": key}))
            )
            print(
                f"Load: {shape.connections} connections, {shape.rounds} x "
                f"{shape.round_seconds:g} s per server after a {shape.warmup_seconds:g} s warm-up; "
                f"provider answers after {PROVIDER_DELAY_MS:g} ms",
                flush=True,
            )
            interleave([a, b], shape, provider)
        with ExitStack() as stack:
            slow = stack.enter_context(fake_provider(args.stampede_delay_ms, tmp / "fake-c.log"))
            server_c = stack.enter_context(running(quantdesk("C", tmp, prepared, slow), READY_PATH))
            print(
                f"Single-flight: {STAMPEDE:,} concurrent requests for a cold key, provider "
                f"holding its answer {args.stampede_delay_ms:g} ms ...",
                flush=True,
            )
            flight = stampede(server_c, slow, key, STAMPEDE)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    results = Results(a, b, flight, shape, args.stampede_delay_ms)
    print()
    print_table(HEADER, results.rows())
    print(f"\nStatuses A: {a.side.status_text()}; B: {b.side.status_text()}")
    print(
        f"Single-flight: connections opened in {flight.burst.connect_s:.2f} s, requests written "
        f"within {flight.burst.send_s * 1000:.1f} ms, all answered after "
        f"{flight.burst.answered_s:.2f} s"
    )
    print(f"\n{info}\nTotal {time.perf_counter() - begun:.0f} s")
    if not args.no_docs:
        write_section(section(results, info), SECTION_START, SECTION_END)
        print(f"Wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
