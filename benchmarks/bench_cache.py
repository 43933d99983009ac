"""Cache benchmark: cached quotes against uncached ones, and single-flight on a cold key.

Run from the repository root with `python -m benchmarks.bench_cache`.

The issue's bars (issue 5, Performance): a cached `GET /api/v1/quotes/{symbol}` (cache hit)
serves at least 5x the requests/s of the same request with the cache disabled when the
provider answers in 20 ms (a local fake provider), same run; and 1,000 concurrent requests
for one cold key cause exactly one provider call, shown by the provider's own counter.

A fake Polygon (`benchmarks/_fake_polygon.py`, its own process) answers snapshot quotes after
20 ms and counts them. Two uvicorn servers of the real app (`quantdesk.main:app`, one worker,
127.0.0.1) on copies of one temporary SQLite database with the demo data and an API key
(`benchmarks/_access_db.py`, as for bench_access), both with
`QUANTDESK_PROVIDERS_QUOTES=polygon` pointed at the fake: A with the cache (warmed first), B
with `QUANTDESK_CACHE_ENABLED=false`. loadgen drives them in interleaved rounds; the fake's
counter, read around every round, shows that A's requests never reached the provider and B's
each did. Then a fresh server C (cache enabled, cold key) and a fresh fake receive 1,000
requests at once on 1,000 connections opened beforehand; the fake's counter must read 1.
Always exits 0: a missed bar is printed as FAIL. The servers and the single-flight run are
in `benchmarks/_cache_runs.py`, the rounds in `benchmarks/_rounds.py`; this module holds the
verdicts, the report and `main`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from benchmarks._access_db import TIER_LIMIT, prepared_run
from benchmarks._cache_cpu import CPU_REQUESTS, SETTLE_SECONDS, CpuSide, interleaved_cpu
from benchmarks._cache_runs import QUOTE_PATH, SYMBOL, Stampede, check_quote, quantdesk, stampede
from benchmarks._docs import DOCS_PATH, markdown_table, print_table, render_section, write_section
from benchmarks._fake_polygon import fake_provider
from benchmarks._rounds import (
    LoadShape,
    RoundCounter,
    Side,
    add_shape_arguments,
    interleave,
    parse_benchmark_args,
    parsed_shape,
)
from benchmarks._uvicorn import running

READY_PATH = "/health/ready"
PROVIDER_DELAY_MS = 20.0
# How long the fake holds the single-flight run's one answer: long enough that all 1,000
# requests reach the cache while that one call is still in flight.
STAMPEDE_DELAY_MS = 2000.0
STAMPEDE = 1_000

DEFAULT_SHAPE = LoadShape(
    connections=32, processes=1, rounds=3, round_seconds=4.0, warmup_seconds=1.0
)
SPEEDUP_BAR = 5.0
MISS_CPU_BAR_MS = 2.0  # server CPU per uncached quote (issue 25)

SECTION_START = "<!-- bench:cache:start -->"
SECTION_END = "<!-- bench:cache:end -->"


# --------------------------------------------------------------------------- report


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def counts(values: dict[int, int] | dict[str, int]) -> str:
    return ", ".join(f"{key}: {value:,}" for key, value in sorted(values.items())) or "none"


@dataclass
class Results:
    a: Side
    b: Side
    flight: Stampede
    shape: LoadShape
    stampede_delay_ms: float
    cpu_a: CpuSide
    cpu_b: CpuSide

    @property
    def ratio(self) -> float:
        return self.a.best_rps() / self.b.best_rps()

    def a_clean(self) -> bool:
        """Every A request answered 200 without reaching the provider (all hits)."""
        side = self.a
        return set(side.statuses()) == {200} and not side.errors() and not sum(side.counted)

    def b_clean(self) -> bool:
        side = self.b
        return set(side.statuses()) == {200} and not side.errors()

    def flight_ok(self) -> bool:
        return self.flight.provider_calls == 1 and self.flight.burst.statuses == {200: STAMPEDE}

    def rows(self) -> list[tuple[str, str, str, str]]:
        a, b, n = self.a, self.b, len(self.a.rounds)

        def med(side: Side, pick: str) -> float:
            return side.median(lambda r: float(getattr(r.load, pick)))

        flight = self.flight
        cpu_a, cpu_b = self.cpu_a, self.cpu_b
        miss_ms = cpu_b.median_ms()
        return [
            (
                f"server CPU per request, median of {len(cpu_b.rounds)} runs of "
                f"{CPU_REQUESTS:,}: B uncached (provider call) / A cache hit",
                f"{miss_ms:.2f} ms / {cpu_a.median_ms():.2f} ms = "
                f"{miss_ms / cpu_a.median_ms():.1f}x",
                f"B <= {MISS_CPU_BAR_MS:g} ms",
                verdict(miss_ms <= MISS_CPU_BAR_MS and cpu_b.rounds[0].provider_calls > 0),
            ),
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
                f"{sum(a.counted):,} / {a.requests():,}",
                "0 (all hits)",
                verdict(self.a_clean()),
            ),
            (
                "provider calls during B's rounds / B's requests",
                f"{sum(b.counted):,} / {b.requests():,}",
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
    "between writes), then every answer is read; the fake's counter is read afterwards. "
    "**Server CPU per request**: after the rounds, {cpu_requests:,} requests on the same "
    "{connections} connections to A, then to B, {cpu_rounds} times alternating who goes "
    "first; the uvicorn process's CPU time (user + system, all threads, psutil `cpu_times`) "
    "is read before and {settle:g} s after each run (so the fetch records B writes after its "
    "answers are counted), divided by the run's requests; medians compared."
)


def cpu_ms(side: Side) -> float:
    """Server CPU milliseconds per answered request over all rounds."""
    cpu = sum(r.server_cpu_s for r in side.rounds)
    return cpu * 1000 / max(1, side.requests())


def section(results: Results, info: str) -> str:
    shape, flight, a, b = results.shape, results.flight, results.a, results.b
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
        cpu_requests=CPU_REQUESTS,
        cpu_rounds=len(results.cpu_b.rounds),
        settle=SETTLE_SECONDS,
    )
    ratios = [x.load.rps / y.load.rps for x, y in zip(a.rounds, b.rounds, strict=True)]
    notes = [
        f"Statuses, A: {a.status_text()}; B: {b.status_text()}.",
        "requests/s A/B within each round, lowest to highest: "
        + " / ".join(f"{value:.1f}x" for value in sorted(ratios))
        + ".",
        f"Provider calls per B round: {', '.join(f'{n:,}' for n in b.counted)}; "
        f"B requests per round: {', '.join(f'{r.load.requests:,}' for r in b.rounds)}.",
        f"Server CPU while loaded (median): A {a.median(lambda r: r.server_cpu):.0%}, "
        f"B {b.median(lambda r: r.server_cpu):.0%} of a core; other CPU on the machine: "
        f"A {a.median(lambda r: r.other_cpu):.0%}, B {b.median(lambda r: r.other_cpu):.0%}. "
        f"Server CPU per request over the throughput rounds: A {cpu_ms(a):.2f} ms, B "
        f"{cpu_ms(b):.2f} ms (B's miss path: one query for the instrument and its stored "
        "quote, the provider call through the chain (aiohttp, one session kept alive; the retry "
        "loop only entered again after a failure) with its quality check, the quote upsert; on "
        "SQLite each statement is one call to the driver (`marketdata/quote_sqlite.py`); the "
        "fetch record queued and written in a batch off the request path).",
        f"Server CPU per request, each of the fixed-count runs (ms): A {results.cpu_a.spread()}; "
        f"B {results.cpu_b.spread()}; provider calls per B run: "
        + ", ".join(f"{r.provider_calls:,}" for r in results.cpu_b.rounds)
        + ".",
        "Where B's CPU goes: `python -m benchmarks._cache_profile` (cProfile of B's miss path "
        "between two signals; `--cpu-only` measures B's CPU alone, `--src` on another checkout). "
        "Issue 25 took B from 9.4 to 3.5 ms, then to the figure above: the provider HTTP client "
        "on aiohttp instead of httpx (about 0.5 ms of CPU per call less), no tenacity on the "
        "happy path, the proxy environment read once instead of on worker threads per request, "
        "and on SQLite the two statements as one driver call each on a pooled connection (a "
        "trip to aiosqlite's thread costs ~50 us of CPU; SQLAlchemy made nine per miss, plus "
        "~160 us per statement for AsyncConnection's start, begin, commit and close).",
        f"Single-flight: {sent.requests:,} connections opened in {sent.connect_s:.2f} s; "
        f"all {sent.requests:,} requests written within {sent.send_s * 1000:.1f} ms; all "
        f"answered {sent.answered_s:.2f} s after the first write.",
    ]
    return render_section(
        SECTION_START,
        SECTION_END,
        title=f"Cache: cached `GET {QUOTE_PATH}` against the cache disabled, and single-flight",
        command="`python -m benchmarks.bench_cache`",
        info=info,
        table=markdown_table(HEADER, results.rows()),
        notes=notes,
        method=method,
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_shape_arguments(parser, DEFAULT_SHAPE)
    parser.add_argument("--stampede-delay-ms", type=float, default=STAMPEDE_DELAY_MS)
    return parse_benchmark_args(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shape = parsed_shape(args)
    with prepared_run("cache", TIER_LIMIT) as run:
        tmp, prepared, key = run.tmp, run.prepared, run.prepared.api_key
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
            a = Side("A cached  ", server_a, server_a.target(QUOTE_PATH, {"X-API-Key": key}))
            b = Side("B no cache", server_b, server_b.target(QUOTE_PATH, {"X-API-Key": key}))
            print(
                f"Load: {shape.connections} connections, {shape.rounds} x "
                f"{shape.round_seconds:g} s per server after a {shape.warmup_seconds:g} s warm-up; "
                f"provider answers after {PROVIDER_DELAY_MS:g} ms",
                flush=True,
            )
            interleave([a, b], shape, RoundCounter("provider calls", provider.count))
            cpu_a = CpuSide("A cached  ", server_a, a.target)
            cpu_b = CpuSide("B no cache", server_b, b.target)
            interleaved_cpu([cpu_a, cpu_b], provider.count, connections=shape.connections)
        with ExitStack() as stack:
            slow = stack.enter_context(fake_provider(args.stampede_delay_ms, tmp / "fake-c.log"))
            server_c = stack.enter_context(running(quantdesk("C", tmp, prepared, slow), READY_PATH))
            print(
                f"Single-flight: {STAMPEDE:,} concurrent requests for a cold key, provider "
                f"holding its answer {args.stampede_delay_ms:g} ms ...",
                flush=True,
            )
            flight = stampede(server_c, slow, key, STAMPEDE)

    results = Results(a, b, flight, shape, args.stampede_delay_ms, cpu_a, cpu_b)
    print()
    print_table(HEADER, results.rows())
    print(f"\nStatuses A: {a.status_text()}; B: {b.status_text()}")
    print(
        f"Single-flight: connections opened in {flight.burst.connect_s:.2f} s, requests written "
        f"within {flight.burst.send_s * 1000:.1f} ms, all answered after "
        f"{flight.burst.answered_s:.2f} s"
    )
    print(run.total())
    if not args.no_docs:
        write_section(section(results, run.info), SECTION_START, SECTION_END)
        print(f"Wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
