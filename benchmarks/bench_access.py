"""Access benchmark: an authenticated, rate-limited quote against a bare FastAPI endpoint.

Run from the repository root with `python -m benchmarks.bench_access`.

The issue's bar ("Access", Performance): `GET /api/v1/quotes/{symbol}` authenticated with an
API key, rate-limited, request-id'd and with security headers serves at least 0.6x the
requests/s of a bare FastAPI endpoint returning the same JSON, with a p99 latency at most 2x
the bare endpoint's, both measured in the same run with the same server settings (uvicorn,
one worker, 127.0.0.1, a bounded load of at most 15 s).

Two uvicorn subprocesses with identical flags: A serves the real app (`quantdesk.main:app`)
on a temporary SQLite database holding the demo data, a premium user and one API key; B
serves `benchmarks/_bare_app.py`, one route answering the very JSON document A answered.
`benchmarks/loadgen.py` (a separate process) drives each with keep-alive connections, A and
B interleaved in rounds, after a short warm-up. It prints both, the ratios and the bars, and
rewrites its own section of docs/benchmarks.md. It always exits 0: a missed bar is printed
as FAIL. The servers are `benchmarks/_uvicorn.py`'s, the rounds `benchmarks/_rounds.py`'s,
the database `benchmarks/_access_db.py`'s; the checks, table and section are in
`benchmarks/_access_report.py`.

`--storage redis` measures the same with the rate limiter's counters in a real Redis
(a throwaway `redis-server`, `benchmarks/_access_redis.py`): A must reach 0.5x B, and Redis'
own CPU per request (from its `INFO`) must stay at most 15 us and be the same at two window
fills (`benchmarks/_access_fill.py`). The quote cache stays in process memory unless
`--redis-cache` puts it in Redis too. That run writes its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from benchmarks._access_db import ROLE, TIER_LIMIT, prepared_run
from benchmarks._access_db import prepare as prepare  # kept importable from here for scripts
from benchmarks._access_fill import FillComparison, compare_fills
from benchmarks._access_redis import (
    REDIS_HEADER,
    RedisMeter,
    redis_report,
    redis_rows,
    redis_server,
)
from benchmarks._access_report import (
    HEADER,
    P99_BAR,
    REDIS_RPS_BAR,
    RPS_BAR,
    cells,
    check_answers,
    rows,
    section,
    write_docs,
)
from benchmarks._docs import DOCS_PATH, print_table
from benchmarks._rounds import (
    LoadShape,
    Side,
    add_shape_arguments,
    bottleneck,
    interleave,
    parse_benchmark_args,
    parsed_shape,
    round_ratios,
)
from benchmarks._uvicorn import Server, base_env, running
from benchmarks.loadgen import fetch_sync

SYMBOL = "GOOG"  # daily demo series, so its quote has every field
QUOTE_PATH = f"/api/v1/quotes/{SYMBOL}"
READY_PATH = "/health/ready"

DEFAULT_SHAPE = LoadShape(
    connections=32, processes=1, rounds=3, round_seconds=4.0, warmup_seconds=1.0
)

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_shape_arguments(parser, DEFAULT_SHAPE, processes=True)
    parser.add_argument("--tier-limit", default=TIER_LIMIT, help=f"the {ROLE.value} tier")
    parser.add_argument("--bare-mode", choices=("dict", "bytes"), default="dict")
    parser.add_argument(
        "--storage",
        choices=("embedded", "redis"),
        default="embedded",
        help="where the rate limiter counts: process memory, or a throwaway redis-server",
    )
    parser.add_argument(
        "--redis-cache",
        action="store_true",
        help="with --storage redis, put the quote cache in Redis too (default: memory)",
    )
    return parse_benchmark_args(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shape = parsed_shape(args)
    use_redis = args.storage == "redis"
    meter: RedisMeter | None = None
    fills: FillComparison | None = None
    with prepared_run("access", args.tier_limit) as run, ExitStack() as stack:
        tmp, prepared = run.tmp, run.prepared
        env = dict(prepared.env)
        if use_redis:
            redis_url = stack.enter_context(redis_server())
            env["QUANTDESK_REDIS_URL"] = redis_url
            env["QUANTDESK_CACHE_BACKEND"] = "redis" if args.redis_cache else "memory"
            print(f"Redis: {redis_url} (quote cache in {env['QUANTDESK_CACHE_BACKEND']})")
        server_a = stack.enter_context(
            running(Server("A", "quantdesk.main:app", env, tmp, tmp / "a.log"), READY_PATH)
        )
        answer = fetch_sync(server_a.target(QUOTE_PATH, {"X-API-Key": prepared.api_key}))
        if answer.status != 200:
            raise RuntimeError(f"A answered {answer.status}: {answer.body[:500]!r}")
        body_path = tmp / "quote.json"
        body_path.write_bytes(answer.body)
        bare_env = {
            **base_env(),
            "QUANTDESK_BENCH_BODY": str(body_path),
            "QUANTDESK_BENCH_BARE_MODE": args.bare_mode,
        }
        server_b = stack.enter_context(
            running(
                Server("B", "benchmarks._bare_app:app", bare_env, ROOT, tmp / "b.log"),
                QUOTE_PATH,
            )
        )
        bare_answer = fetch_sync(server_b.target(QUOTE_PATH))
        checks = check_answers(answer.headers, answer.body, bare_answer.body, args.tier_limit)
        for note in checks.notes:
            print(f"NOTE: {note}", flush=True)
        a = Side(
            "A quantdesk",
            server_a,
            server_a.target(QUOTE_PATH, {"X-API-Key": prepared.api_key}),
        )
        b = Side("B bare     ", server_b, server_b.target(QUOTE_PATH))
        print(
            f"Load: {shape.connections} connections, {shape.processes} client process(es), "
            f"{shape.rounds} x {shape.round_seconds:g} s per server after a "
            f"{shape.warmup_seconds:g} s warm-up",
            flush=True,
        )
        if use_redis:
            meter = RedisMeter(redis_url, a.target, int(checks.rate_limit or 0), metered=a)
            stack.callback(meter.close)
            interleave([a, b], shape, meter)
            fills = compare_fills(redis_url)
        else:
            interleave([a, b], shape)

    all_ok = set(a.statuses()) == {200} and not a.errors()
    if meter is None:
        table = rows(a, b, all_ok, RPS_BAR, P99_BAR)
    else:
        table = rows(a, b, all_ok, REDIS_RPS_BAR, None)
    print()
    print_table(HEADER, cells(table))
    if meter is not None and fills is not None:
        print()
        print_table(REDIS_HEADER, redis_rows(meter, fills, all_ok))
        print(f"Redis commands per request: {meter.calls_text()}")
    print(f"\nStatuses A: {a.status_text()}")
    print(f"Statuses B: {b.status_text()}")
    if not all_ok:
        print("FAIL: A answered something other than 200 (see statuses); its figures do not count")
    for line in round_ratios(a, b):
        print(line)
    print("Bottleneck (median CPU while loaded):")
    for side in (a, b):
        print(f"  {bottleneck(side)}")
    for note in checks.notes:
        print(f"NOTE: {note}")
    print(run.total())
    if not args.no_docs:
        tier, bare = args.tier_limit, args.bare_mode
        mode = None
        if meter is not None and fills is not None:
            mode = redis_report(meter, fills, all_ok, args.redis_cache)
        write_docs(
            section(table, a, b, checks, shape, tier, bare, run.info, QUOTE_PATH, mode), mode
        )
        print(f"Wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
