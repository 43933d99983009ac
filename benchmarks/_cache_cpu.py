"""Server CPU per request of the cache benchmark's servers, measured on the process itself.

`cpu_per_request` reads the uvicorn process's CPU time (user + system, every thread: psutil
`cpu_times`) before and after a fixed number of requests, waits `SETTLE_SECONDS` before the
second reading so work done after the responses (the quotes chain's fetch records, written in
batches within 0.2 s) is counted too, and divides. `interleaved_cpu` does that for several
servers in alternating rounds and keeps every round.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psutil

from benchmarks._uvicorn import Server
from benchmarks.loadgen import Target, run_load

CPU_REQUESTS = 1_000
CPU_ROUNDS = 3
SETTLE_SECONDS = 1.0
MAX_SECONDS = 15.0  # loadgen.MAX_DURATION; a slower run counts the requests it made


@dataclass
class CpuRound:
    requests: int
    ok: int
    cpu_s: float
    provider_calls: int

    @property
    def ms_per_request(self) -> float:
        return self.cpu_s * 1000 / max(1, self.requests)


@dataclass
class CpuSide:
    name: str
    server: Server
    target: Target
    rounds: list[CpuRound] = field(default_factory=list)

    def median_ms(self) -> float:
        return statistics.median(r.ms_per_request for r in self.rounds)

    def best_ms(self) -> float:
        return min(r.ms_per_request for r in self.rounds)

    def spread(self) -> str:
        return " / ".join(f"{r.ms_per_request:.2f}" for r in self.rounds)


def cpu_per_request(
    side: CpuSide, requests: int, connections: int, provider_calls: Callable[[], int]
) -> CpuRound:
    process = psutil.Process(side.server.pid)
    calls = provider_calls()
    before = process.cpu_times()
    load = run_load(
        side.target, connections=connections, max_requests=requests, duration=MAX_SECONDS
    )
    time.sleep(SETTLE_SECONDS)
    after = process.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    return CpuRound(load.requests, load.statuses.get(200, 0), cpu, provider_calls() - calls)


def interleaved_cpu(
    sides: Sequence[CpuSide],
    provider_calls: Callable[[], int],
    *,
    requests: int = CPU_REQUESTS,
    rounds: int = CPU_ROUNDS,
    connections: int = 32,
) -> None:
    for index in range(rounds):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        for side in order:
            found = cpu_per_request(side, requests, connections, provider_calls)
            side.rounds.append(found)
            print(
                f"  CPU round {index + 1}/{rounds} {side.name}: {found.requests:,} requests, "
                f"{found.ms_per_request:.2f} ms server CPU each, "
                f"{found.provider_calls:,} provider calls",
                flush=True,
            )
