"""The figures of `benchmarks.scaleout.cpu_shape` per side (1 or 2 replicas) and their section
of docs/scale-out.md (between the cpu-shape markers)."""

from __future__ import annotations

import os
from argparse import Namespace
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from benchmarks._docs import platform_parts, revision, write_section
from benchmarks.loadgen import percentile
from benchmarks.scaleout.report import DOC

if TYPE_CHECKING:
    from benchmarks.scaleout.cpu_shape import Window

BAR_RATIO = 1.15  # 2-replica CPU per request over 1-replica CPU per request, at most
BEGIN = "<!-- cpu-shape:begin (written by python -m benchmarks.scaleout.cpu_shape) -->"
END = "<!-- cpu-shape:end -->"


@dataclass(frozen=True)
class Side:
    """Every window of one side (1 or 2 replicas) added up."""

    replicas: int
    windows: int
    requests: int
    ok: int
    elapsed_s: float
    p50_ms: float
    p99_ms: float
    replica_cpu_s: float
    redis_cpu_s: float
    haproxy_cpu_s: float
    redis_commands: int
    idle_cpu_per_s: float  # the side's replicas together, no load
    cache: dict[str, int]

    @classmethod
    def of(cls, replicas: int, windows: Sequence[Window], idle_cpu_per_s: float) -> Side:
        latencies = sorted(ns for w in windows for ns in w.load.latencies_ns)
        cache: Counter[str] = Counter()
        for window in windows:
            cache.update(window.load.cache)
        return cls(
            replicas=replicas,
            windows=len(windows),
            requests=sum(w.load.requests for w in windows),
            ok=sum(w.load.ok for w in windows),
            elapsed_s=sum(w.load.elapsed_s for w in windows),
            p50_ms=percentile(latencies, 0.50) / 1e6,
            p99_ms=percentile(latencies, 0.99) / 1e6,
            replica_cpu_s=sum(w.replica_cpu_s for w in windows),
            redis_cpu_s=sum(w.redis_cpu_s for w in windows),
            haproxy_cpu_s=sum(w.haproxy_cpu_s for w in windows),
            redis_commands=sum(w.redis_commands for w in windows),
            idle_cpu_per_s=idle_cpu_per_s,
            cache=dict(cache),
        )

    def per_1000(self, cpu_s: float) -> float:
        return cpu_s * 1000 / max(1, self.requests)

    @property
    def rps(self) -> float:
        return self.requests / max(self.elapsed_s, 1e-9)


def ratio(sides: Sequence[Side]) -> float:
    one, two = (next(s for s in sides if s.replicas == n) for n in (1, 2))
    return two.per_1000(two.replica_cpu_s) / max(one.per_1000(one.replica_cpu_s), 1e-12)


def _table(sides: Sequence[Side]) -> list[str]:
    lines = [
        "| replicas | windows | requests | non-200 | requests/s | p50 ms | p99 ms | replica "
        "CPU-s | **replica CPU-s per 1,000** | Redis CPU-s per 1,000 | haproxy CPU-s per 1,000 "
        "| Redis commands per request | X-Cache |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for side in sides:
        cache = ", ".join(f"{name} {count:,}" for name, count in sorted(side.cache.items()))
        lines.append(
            f"| {side.replicas} | {side.windows} | {side.requests:,} | "
            f"{side.requests - side.ok:,} | {side.rps:,.0f} | {side.p50_ms:.1f} | "
            f"{side.p99_ms:.1f} | {side.replica_cpu_s:.2f} | "
            f"**{side.per_1000(side.replica_cpu_s):.2f}** | "
            f"{side.per_1000(side.redis_cpu_s):.2f} | {side.per_1000(side.haproxy_cpu_s):.2f} "
            f"| {side.redis_commands / max(1, side.requests):.2f} | {cache} |"
        )
    return lines


TITLES = {
    "same-total": "Diagnostic, not the bar: the same requests at the same total rate "
    "({rate:g}/s) to 1 and to 2 replicas, each of the 2 half as busy as the one alone",
    "saturation": "Diagnostic, not the bar: the same requests as a closed loop (saturation: "
    "the one replica busy all the time, serving several requests per event-loop wake-up)",
}


def render(
    passes: Sequence[tuple[str, Sequence[Side]]], args: Namespace, symbols: Sequence[str]
) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    machine = ", ".join(platform_parts())
    sides = passes[0][1]
    found = ratio(sides)
    verdict = "PASS" if found <= BAR_RATIO else "FAIL"
    lines = [
        BEGIN,
        "",
        f"Last run: {stamp}, {revision()}; {machine}; load average {load} at the end.",
        f"Load: GET /api/v1/quotes/{{{','.join(symbols)}}} as a guest, "
        f"{args.connections} keep-alive connections, in a fixed schedule: "
        f"{args.rate:g} requests/s to 1 replica ({args.requests:,} per window), "
        f"{2 * args.rate:g}/s to 2 replicas ({2 * args.requests:,} per window), each replica "
        "as busy as the one alone; windows alternate 1, 2, 2, 1 replicas (the time budget may "
        "skip the last).",
        "",
        *_table(sides),
    ]
    idle = "; ".join(
        f"{side.replicas} replica(s) {side.idle_cpu_per_s * 1000:.0f} ms per second"
        for side in sides
    )
    lines += [
        "",
        f"Ratio, 2 replicas over 1: **{found:.2f}x** (bar: at most {BAR_RATIO:.2f}x) "
        f"**{verdict}**. Replica CPU with no load (counted in the windows too): {idle}. "
        f"On {os.cpu_count()} shared CPUs requests/s and latency are modest; the CPU per "
        "request is the figure that carries over to other machines.",
    ]
    for key, diagnostic in passes[1:]:
        title = TITLES[key].format(rate=args.rate)
        lines += ["", f"{title}: ratio **{ratio(diagnostic):.2f}x**.", "", *_table(diagnostic)]
    lines += ["", END]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    write_section(section, BEGIN, END, DOC)
