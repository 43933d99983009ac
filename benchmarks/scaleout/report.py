"""Locust's CSV stats read back, and the generated section of docs/scale-out.md."""

from __future__ import annotations

import csv
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.support.cluster_invariants import Outcome

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale-out.md"
BEGIN = "<!-- scaleout:begin (written by python -m benchmarks.scaleout.run) -->"
END = "<!-- scaleout:end -->"
P99_BAR_MS = 250.0  # issue 16: p99 under the mixed load at the documented rate


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p99: float


def read_stats(prefix: Path) -> list[Row]:
    """`<prefix>_stats.csv`: one row per request name, then locust's Aggregated row."""
    rows = []
    with Path(f"{prefix}_stats.csv").open(newline="") as handle:
        for item in csv.DictReader(handle):
            rows.append(
                Row(
                    name=item["Name"] if item["Type"] else "all",
                    requests=int(item["Request Count"]),
                    failures=int(item["Failure Count"]),
                    rps=float(item["Requests/s"]),
                    p50=float(item["50%"] or 0),
                    p99=float(item["99%"] or 0),
                )
            )
    return rows


def read_failures(prefix: Path) -> list[str]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [
            f"{item['Method']} {item['Name']}: {item['Error']} x{item['Occurrences']}"
            for item in csv.DictReader(handle)
        ]


def _machine() -> str:
    model = ""
    with Path("/proc/cpuinfo").open() as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{platform.machine()}, {os.cpu_count()} CPUs ({model}), load average {load} at the end"


def _commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or "unknown"


def render(
    rows: list[Row],
    outcomes: list[Outcome],
    failures: list[str],
    *,
    seconds: int,
    users: int,
    rate: float,
    replicas: int,
    workers: int,
) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        BEGIN,
        "",
        f"Last run: {stamp}, commit `{_commit()}`; {_machine()}.",
        f"Cluster: {replicas} API replicas, {workers} Celery workers, beat, PostgreSQL, Redis "
        f"and haproxy on 127.0.0.1; load: locust, {users} users starting {rate:g} tasks/s in "
        f"all (constant_throughput {rate / users:g}/s each), {seconds} s.",
        "",
        f"| endpoint class | requests | failures | requests/s | p50 ms | p99 ms | "
        f"p99 <= {P99_BAR_MS:g} ms |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    lines += [
        f"| {row.name} | {row.requests:,} | {row.failures:,} | {row.rps:,.1f} | "
        f"{row.p50:,.0f} | {row.p99:,.0f} | {'PASS' if row.p99 <= P99_BAR_MS else 'FAIL'} |"
        for row in rows
    ]
    lines += ["", "| invariant | result | detail |", "|---|---|---|"]
    lines += [
        f"| {item.name} | {'ok' if item.ok else '**FAILED**'} | {item.detail} |"
        for item in outcomes
    ]
    if failures:
        lines += ["", "Failed requests:", ""] + [f"- {line}" for line in failures[:20]]
    return "\n".join([*lines, "", END])


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)
