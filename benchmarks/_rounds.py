"""Closed-loop load rounds against uvicorn servers, interleaved so machine drift hits every side.

A `Side` is one server and the request loaded on it; `interleave` gives each side a warm-up,
then rounds of `benchmarks/loadgen.py` load, alternating who goes first, recording per `Round`
the load's figures with the server's and the whole machine's CPU time (optionally also an
outside counter, such as a fake provider's calls). `round_ratios` and `bottleneck` read the
rounds back for the report; `add_shape_arguments`, `parse_benchmark_args` and
`parsed_shape` are the load's options.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from benchmarks._uvicorn import Server, cpu_seconds
from benchmarks.loadgen import LoadResult, Target, check_load_args, run_load

MAX_REQUESTS_PER_ROUND = 500_000  # a safety bound; the duration ends every round first

Key = TypeVar("Key")


@dataclass
class Round:
    load: LoadResult
    server_cpu_s: float
    machine_cpu_s: float  # busy CPU time of the whole machine (all cores) during the round

    @property
    def server_cpu(self) -> float:
        return self.server_cpu_s / self.load.elapsed_s

    @property
    def client_cpu(self) -> float:
        return self.load.client_cpu_s / self.load.elapsed_s

    @property
    def other_cpu(self) -> float:
        """Busy CPU not spent by the server or the client (other processes, the kernel)."""
        spent = self.server_cpu_s + self.load.client_cpu_s
        return max(0.0, self.machine_cpu_s - spent) / self.load.elapsed_s


def summed(counters: Iterable[Mapping[Key, int]]) -> dict[Key, int]:
    total: dict[Key, int] = {}
    for counter in counters:
        for key, count in counter.items():
            total[key] = total.get(key, 0) + count
    return total


@dataclass
class Side:
    name: str
    server: Server
    target: Target
    rounds: list[Round] = field(default_factory=list)
    warmup: LoadResult | None = None
    counted: list[int] = field(default_factory=list)  # a RoundCounter's increase per round

    def best_rps(self) -> float:
        return max(r.load.rps for r in self.rounds)

    def best_p99(self) -> float:
        return min(r.load.p99_ms for r in self.rounds)

    def median(self, pick: Callable[[Round], float]) -> float:
        return statistics.median(pick(r) for r in self.rounds)

    def requests(self) -> int:
        return sum(r.load.requests for r in self.rounds)

    def statuses(self) -> dict[int, int]:
        return summed(r.load.statuses for r in self.rounds)

    def errors(self) -> dict[str, int]:
        return summed(r.load.errors for r in self.rounds)

    def status_text(self) -> str:
        parts = [f"{status}: {count:,}" for status, count in sorted(self.statuses().items())]
        parts.extend(f"{name}: {count:,}" for name, count in sorted(self.errors().items()))
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class LoadShape:
    connections: int
    processes: int
    rounds: int
    round_seconds: float
    warmup_seconds: float


class RoundProbe(Protocol):
    """Something read around each measured round (not the warm-up): it runs the round and
    returns its result and a line to print under it (None: nothing to add)."""

    def around(self, side: Side, run: Callable[[], Round]) -> tuple[Round, str | None]: ...


@dataclass(frozen=True)
class RoundCounter:
    """A count kept outside the servers, read before and after every round (not the
    warm-up) and printed as `{label} during the round: N`."""

    label: str
    read: Callable[[], int]

    def around(self, side: Side, run: Callable[[], Round]) -> tuple[Round, str | None]:
        before = self.read()
        result = run()
        side.counted.append(self.read() - before)
        return result, f"    {self.label} during the round: {side.counted[-1]:,}"


def add_shape_arguments(
    parser: argparse.ArgumentParser, default: LoadShape, *, processes: bool = False
) -> None:
    """--connections, [--client-processes,] --rounds, --round-seconds, --warmup-seconds."""
    parser.add_argument("--connections", type=int, default=default.connections)
    if processes:
        parser.add_argument(
            "--client-processes",
            type=int,
            default=default.processes,
            help="load-generator processes",
        )
    parser.add_argument("--rounds", type=int, default=default.rounds)
    parser.add_argument("--round-seconds", type=float, default=default.round_seconds)
    parser.add_argument("--warmup-seconds", type=float, default=default.warmup_seconds)


def parse_benchmark_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Add --no-docs last, parse, and refuse load options loadgen cannot run."""
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    check_load_args(parser, args)
    return args


def parsed_shape(args: argparse.Namespace) -> LoadShape:
    """The shape `add_shape_arguments` asked for (one client process unless it offered more)."""
    return LoadShape(
        args.connections,
        getattr(args, "client_processes", 1),
        args.rounds,
        args.round_seconds,
        args.warmup_seconds,
    )


def machine_busy_seconds() -> float:
    """Busy (non-idle, non-iowait) CPU seconds of the machine since boot, all cores."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    ticks = [int(value) for value in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def measure(side: Side, shape: LoadShape, seconds: float) -> Round:
    cpu_before = cpu_seconds(side.server.pid)
    machine_before = machine_busy_seconds()
    load = run_load(
        side.target,
        connections=shape.connections,
        max_requests=MAX_REQUESTS_PER_ROUND,
        duration=seconds,
        processes=shape.processes,
    )
    return Round(
        load, cpu_seconds(side.server.pid) - cpu_before, machine_busy_seconds() - machine_before
    )


def print_round(label: str, side: Side, result: Round) -> None:
    print(
        f"  {label} {side.name}: {result.load.summary()}; "
        f"CPU: server {result.server_cpu:.0%}, client {result.client_cpu:.0%}, "
        f"everything else {result.other_cpu:.0%}",
        flush=True,
    )


def interleave(sides: Sequence[Side], shape: LoadShape, probe: RoundProbe | None = None) -> None:
    for side in sides:
        warm = measure(side, shape, shape.warmup_seconds)
        side.warmup = warm.load
        print_round("warm-up", side, warm)
    for index in range(shape.rounds):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        for side in order:

            def run(side: Side = side) -> Round:
                return measure(side, shape, shape.round_seconds)

            result, note = (run(), None) if probe is None else probe.around(side, run)
            side.rounds.append(result)
            print_round(f"round {index + 1}/{shape.rounds}", side, result)
            if note is not None:
                print(note, flush=True)


def round_ratios(a: Side, b: Side) -> list[str]:
    """The ratios within each round (A and B back to back), as a check on machine noise."""

    def spread(values: Sequence[float]) -> str:
        ordered = sorted(values)
        return (
            f"{ordered[0]:.2f} / {statistics.median(ordered):.2f} / {ordered[-1]:.2f}x "
            f"over {len(ordered)} rounds"
        )

    pairs = list(zip(a.rounds, b.rounds, strict=True))
    return [
        "requests/s A/B per round: " + spread([x.load.rps / y.load.rps for x, y in pairs]),
        "p99 A/B per round: " + spread([x.load.p99_ms / y.load.p99_ms for x, y in pairs]),
    ]


def bottleneck(side: Side) -> str:
    """Which process limited a side's rounds, from the CPU each used (one core = 100%)."""
    server = side.median(lambda r: r.server_cpu)
    client = side.median(lambda r: r.client_cpu) / side.rounds[0].load.processes
    other = side.median(lambda r: r.other_cpu)
    if client >= 0.85:
        verdict = "client-bound: try more --client-processes"
    elif server >= 0.85:
        verdict = "server-bound"
    else:
        verdict = "neither process saturated a core: the machine was shared"
    return (
        f"{side.name.strip()}: server {server:.0%} of a core, each client process "
        f"{client:.0%}, everything else on the machine {other:.0%}; {verdict}"
    )
