"""WebSocket fan-out: deliveries per second to 500 subscribed clients in one process, against a
bare Starlette broadcast of the same events, and two replicas through Redis (deliveries/s,
publish-to-receive p99, losses). Writes its section of docs/benchmarks.md.

Every server is a real uvicorn subprocess (benchmarks/_uvicorn.py); the clients are separate
processes (benchmarks/_ws_clients.py) holding real sockets; events are BENCH quotes stamped with
their publish time (benchmarks/_realtime_apps.py).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
from tests.support.servers import running_redis

from benchmarks._docs import (
    load_average,
    markdown_table,
    platform_parts,
    render_section,
    report,
)
from benchmarks._realtime_method import METHOD
from benchmarks._uvicorn import Server, base_env, running
from quantdesk.infra.events import RedisEventBus

SECTION_START = "<!-- bench:realtime:start -->"
SECTION_END = "<!-- bench:realtime:end -->"
HEADER = ("measurement", "quantdesk", "reference", "ratio", "bar", "result")
ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 500
EVENTS = 1_000  # per single-process round: 500,000 deliveries
CHUNK = 50  # events published back to back before the publisher yields
ONE_PROCESS_BAR = 100_000.0
REPLICA_CLIENTS = 50  # per replica
REPLICA_RATE = 120.0  # events/s published through Redis: 12,000 deliveries/s
REPLICA_SECONDS = 10.0
REPLICA_BAR = 10_000.0
P99_BAR_MS = 100.0


def env(database: Path, **extra: str) -> dict[str, str]:
    return base_env() | {
        "QUANTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "QUANTDESK_PAPER_DESK_ENABLED": "false",
        "QUANTDESK_WARM_KERNELS_AT_STARTUP": "false",
        # Every bench client is a guest on 127.0.0.1: lift the per-user (per-IP) cap.
        "QUANTDESK_REALTIME_MAX_CONNECTIONS_PER_USER": "10000",
        **extra,
    }


def clients(url: str, count: int, expect: int, wait: float) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "benchmarks._ws_clients", url, str(count), str(expect)]
    process = subprocess.Popen(
        [*command, str(wait)], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=base_env()
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != "ready":
        raise RuntimeError(f"clients did not connect: {line!r}")
    return process


def result_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    out, _ = process.communicate(timeout=300)
    data: dict[str, Any] = orjson.loads(out.strip().splitlines()[-1])
    return data


def one_process(server: Server, ws_path: str) -> dict[str, Any]:
    with running(server, "/health/ready"):
        process = clients(f"ws://127.0.0.1:{server.port}{ws_path}", CLIENTS, EVENTS, 120)
        response = httpx.post(
            f"http://127.0.0.1:{server.port}/bench/publish",
            params={"n": EVENTS, "chunk": CHUNK},
            timeout=300,
        )
        response.raise_for_status()
        result = result_of(process)
    result["rate"] = result["frames"] / result["seconds"] if result["seconds"] else 0.0
    return result


async def _publish_steadily(url: str, rate: float, seconds: float) -> int:
    from benchmarks._realtime_apps import bench_event

    bus = RedisEventBus(url)
    sent = 0
    started = time.perf_counter()
    try:
        total = int(rate * seconds)
        while sent < total:
            due = started + sent / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            event = bench_event(sent)
            await bus.publish(event.topic, event)
            sent += 1
    finally:
        await bus.aclose()
    return sent


def two_replicas(
    tmp: Path, database: Path, per_replica: int = REPLICA_CLIENTS, rate: float = REPLICA_RATE
) -> dict[str, Any]:
    with running_redis() as redis:
        settings = env(database, QUANTDESK_EVENTS_BACKEND="redis", QUANTDESK_REDIS_URL=redis.url)
        one = Server("replica-1", "quantdesk.main:app", settings, ROOT, tmp / "replica1.log")
        two = Server("replica-2", "quantdesk.main:app", settings, ROOT, tmp / "replica2.log")
        expect = int(rate * REPLICA_SECONDS)
        with running(one, "/health/ready"), running(two, "/health/ready"):
            processes = [
                clients(f"ws://127.0.0.1:{s.port}/api/v1/ws", per_replica, expect, 60)
                for s in (one, two)
            ]
            sent = asyncio.run(_publish_steadily(redis.url, rate, REPLICA_SECONDS))
            results = [result_of(p) for p in processes]
    frames = sum(r["frames"] for r in results)
    seconds = max(r["seconds"] for r in results)
    return {
        "sent": sent,
        "frames": frames,
        "expected": sent * per_replica * 2,
        "rate": frames / seconds if seconds else 0.0,
        "p99_ms": max(r["p99_ms"] or 0.0 for r in results),
        "p50_ms": max(r["p50_ms"] or 0.0 for r in results),
        "messages": sum(r["messages"] for r in results),
    }


def _verdict(passed: bool | None) -> str:
    return "info" if passed is None else ("PASS" if passed else "FAIL")


def measure(tmp: Path) -> tuple[list[tuple[str, ...]], list[str]]:
    database = tmp / "bench.db"
    subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env(database),
        check=True,
        capture_output=True,
    )
    app = "benchmarks._realtime_apps:quantdesk_app"
    ours = one_process(Server("quantdesk", app, env(database), ROOT, tmp / "qd.log"), "/api/v1/ws")
    bare_app = "benchmarks._realtime_apps:bare_app"
    bare = one_process(Server("bare", bare_app, env(database), ROOT, tmp / "bare.log"), "/ws")
    replicas = two_replicas(tmp, database)
    complete = ours["frames"] == ours["expected"] and bare["frames"] == bare["expected"]
    one_ok = ours["rate"] >= ONE_PROCESS_BAR and complete
    lost = replicas["expected"] - replicas["frames"]
    rows: list[tuple[str, ...]] = [
        (
            f"one process: deliveries/s, {CLIENTS} clients x {EVENTS:,} events",
            f"{ours['rate']:,.0f}",
            f"{bare['rate']:,.0f}",
            f"{ours['rate'] / bare['rate']:.1f}x" if bare["rate"] else "-",
            f">= {ONE_PROCESS_BAR:,.0f}",
            _verdict(one_ok),
        ),
        (
            "one process: WebSocket messages sent (frames per message)",
            f"{ours['messages']:,} ({ours['frames'] / max(ours['messages'], 1):.0f})",
            f"{bare['messages']:,} ({bare['frames'] / max(bare['messages'], 1):.0f})",
            "-",
            "-",
            _verdict(None),
        ),
        (
            "one process: publish-to-receive p50 / p99 (ms, burst)",
            f"{ours['p50_ms']:.0f} / {ours['p99_ms']:.0f}",
            f"{bare['p50_ms']:.0f} / {bare['p99_ms']:.0f}",
            "-",
            "-",
            _verdict(None),
        ),
        (
            f"two replicas via Redis: deliveries/s, 2 x {REPLICA_CLIENTS} clients, "
            f"{REPLICA_RATE:.0f} events/s",
            f"{replicas['rate']:,.0f}",
            "-",
            "-",
            f">= {REPLICA_BAR:,.0f}",
            _verdict(replicas["rate"] >= REPLICA_BAR and lost == 0),
        ),
        (
            "two replicas via Redis: publish-to-receive p50 / p99 (ms)",
            f"{replicas['p50_ms']:.1f} / {replicas['p99_ms']:.1f}",
            "-",
            "-",
            f"p99 <= {P99_BAR_MS:.0f}",
            _verdict(replicas["p99_ms"] <= P99_BAR_MS),
        ),
        (
            "two replicas via Redis: frames lost",
            f"{lost:,} of {replicas['expected']:,}",
            "-",
            "-",
            "0",
            _verdict(lost == 0),
        ),
    ]
    notes = [
        f"One process: {ours['frames']:,} of {ours['expected']:,} frames delivered by quantdesk, "
        f"{bare['frames']:,} of {bare['expected']:,} by the bare broadcast.",
        f"Two replicas: {replicas['sent']:,} events published, {replicas['messages']:,} "
        "WebSocket messages received.",
    ]
    return rows, notes


def section(rows: Sequence[tuple[str, ...]], notes: Sequence[str], info: str) -> str:
    return render_section(
        SECTION_START,
        SECTION_END,
        title="Realtime streams",
        command="`python -m benchmarks.bench_realtime`",
        info=info,
        table=markdown_table(HEADER, rows),
        notes=notes,
        method=METHOD,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="quantdesk-bench-realtime-") as folder:
        rows, notes = measure(Path(folder))
    info = ", ".join([*platform_parts(), f"load average after the run {load_average()}"])
    failed = report(
        rows,
        notes,
        header=HEADER,
        info=info,
        begun=begun,
        section=section,
        start=SECTION_START,
        end=SECTION_END,
        write=not args.no_docs,
    )
    if failed:
        print("FAIL: " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
