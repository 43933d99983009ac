"""Where an uncached quote's server CPU goes: cProfile of server B's miss path.

    python -m benchmarks._cache_profile [--requests 1000] [--top 45]
    python -m benchmarks._cache_profile --cpu-only [--rounds 3] [--src OTHER_CHECKOUT/src]

Prepares the cache benchmark's database and fake Polygon (20 ms answers), starts one server
of the real app with the cache disabled (as B of `bench_cache`) under this module's `serve`
entry point, warms it, then profiles `--requests` quote requests (32 connections) and prints
the heaviest functions by cumulative and by own time. The profiler runs only between SIGUSR1
and SIGUSR2 (start-up is not profiled); `serve` is `uvicorn` with that switch. The profile
is kept as /tmp/quantdesk-cache-b.prof for pstats. cProfile sees the event loop's thread only,
and inflates deep coroutine stacks; `--cpu-only` runs no profiler and prints B's server CPU per
request as `bench_cache` measures it, and `--src` runs the server on another checkout's code
(a baseline measured beside this one).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from benchmarks._access_db import TIER_LIMIT, prepared_run
from benchmarks._cache_cpu import SETTLE_SECONDS, CpuSide, interleaved_cpu
from benchmarks._cache_runs import QUOTE_PATH, check_quote, quantdesk
from benchmarks._fake_polygon import fake_provider
from benchmarks._uvicorn import Server, running
from benchmarks.loadgen import run_load

READY_PATH = "/health/ready"
ROOT = Path(__file__).resolve().parents[1]


def serve(argv: Sequence[str]) -> None:
    """uvicorn, with cProfile switched on by SIGUSR1 and dumped to $PROFILE_OUT by SIGUSR2."""
    import uvicorn.main

    profiler = cProfile.Profile()
    out = os.environ["PROFILE_OUT"]

    def start(_signum: int, _frame: object) -> None:
        profiler.enable()

    def stop(_signum: int, _frame: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    uvicorn.main.main(list(argv))


class ProfiledServer(Server):
    def command(self) -> list[str]:
        command = super().command()
        return [sys.executable, "-m", "benchmarks._cache_profile", "serve", *command[3:]]


def cpu_only(requests: int, rounds: int, src: str | None) -> int:
    """Server B's CPU per uncached quote as `bench_cache` measures it, without the rest."""
    with ExitStack() as stack:
        run = stack.enter_context(prepared_run("cache-cpu", TIER_LIMIT))
        provider = stack.enter_context(fake_provider(20.0, run.tmp / "fake.log"))
        extra = {"PYTHONPATH": src} if src else {}
        server = quantdesk(
            "B", run.tmp, run.prepared, provider, QUANTDESK_CACHE_ENABLED="false", **extra
        )
        stack.enter_context(running(server, READY_PATH))
        key = run.prepared.api_key
        check_quote(server, key, "miss")
        side = CpuSide("B", server, server.target(QUOTE_PATH, {"X-API-Key": key}))
        run_load(side.target, connections=32, max_requests=requests, duration=15.0)  # warm-up
        interleaved_cpu([side], provider.count, requests=requests, rounds=rounds)
        print(f"median {side.median_ms():.2f} ms ({side.spread()})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", help="run the server on another checkout's src/ (baseline)")
    parser.add_argument(
        "--cpu-only", action="store_true", help="no profiler: server CPU per request, 3 runs"
    )
    args = parser.parse_args(argv)
    if args.cpu_only:
        return cpu_only(args.requests, args.rounds, args.src)
    with prepared_run("cache-profile", TIER_LIMIT) as run:
        tmp, key = run.tmp, run.prepared.api_key
        out = tmp / "b.prof"
        with fake_provider(20.0, tmp / "fake.log") as provider:
            plain = quantdesk("B", tmp, run.prepared, provider, QUANTDESK_CACHE_ENABLED="false")
            server = ProfiledServer(
                plain.name,
                plain.app,
                {**plain.env, "PROFILE_OUT": str(out), "PYTHONPATH": str(ROOT)},
                tmp,
                plain.log_path,
            )
            with running(server, READY_PATH):
                for _ in range(3):
                    check_quote(server, key, "miss")
                target = server.target(QUOTE_PATH, {"X-API-Key": key})
                run_load(target, connections=32, max_requests=200, duration=15.0)
                os.kill(server.pid, signal.SIGUSR1)
                load = run_load(target, connections=32, max_requests=args.requests, duration=15.0)
                time.sleep(SETTLE_SECONDS)
                os.kill(server.pid, signal.SIGUSR2)
                time.sleep(1.0)
                print(f"{load.requests} requests, statuses {load.statuses}")
        stats = pstats.Stats(str(out))
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        Path("/tmp/quantdesk-cache-b.prof").write_bytes(out.read_bytes())
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    else:
        sys.exit(main())
