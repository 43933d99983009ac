"""The access benchmark's Redis mode: the rate limiter's counters in a real Redis, and what
each request costs Redis.

`redis_server` starts a throwaway `redis-server` on 127.0.0.1 and a free port in a temporary
directory (tests/support/redis_server.py) and stops it on the way out. `RedisMeter` is the
`RoundProbe` given to `benchmarks._rounds.interleave`: around each round of A it reads
Redis' `INFO`: its CPU time (`used_cpu_sys + used_cpu_user`, all of Redis' work: network
reads and writes, parsing, the script), the time Redis spent inside commands (`INFO
commandstats`, `usec` summed over every command; a script's inner calls are counted inside its
EVALSHA and again on their own lines, so only EVALSHA and the top-level commands are summed)
and the commands called; and, with one request before the round, how full the limiter's
window on the benchmark's one key was (the limit minus `RateLimit-Remaining`). The rounds
fill that window more and more, so the first and the last round measure Redis' cost per
request at two different fills.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis
from tests.support.redis_server import running_redis

from benchmarks._access_fill import FillComparison
from benchmarks._access_report import (
    REDIS_SECTION_END,
    REDIS_SECTION_START,
    ModeReport,
    verdict,
)
from benchmarks._docs import markdown_table
from benchmarks._rounds import Round, Side
from benchmarks.loadgen import Target, fetch_sync

# Commands a script's redis.call runs: counted inside the EVALSHA's usec already.
SCRIPT_INNER = frozenset({"hmget", "hincrby", "hset", "pexpire"})
CPU_BAR_US = 15.0  # Redis CPU per request
FLAT_BAR = 1.25  # Redis CPU per call at a full window / at an empty one: within 1/1.25..1.25


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway Redis for the run: its URL."""
    with running_redis() as process:
        yield process.url


@dataclass(frozen=True)
class RedisInfo:
    cpu_s: float
    command_usec: int  # time inside top-level commands (scripts included)
    calls: dict[str, int]
    reads: int  # reads from client sockets (a read can carry several pipelined commands)

    @classmethod
    def read(cls, client: redis.Redis) -> RedisInfo:
        cpu: dict[str, Any] = client.info("cpu")
        stats: dict[str, Any] = client.info("commandstats")
        calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
        usec = sum(
            int(v["usec"])
            for name, v in stats.items()
            if name.removeprefix("cmdstat_") not in SCRIPT_INNER
        )
        reads = int(client.info("stats").get("total_reads_processed", 0))
        return cls(float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]), usec, calls, reads)


@dataclass(frozen=True)
class RedisRound:
    requests: int
    fill: int  # requests counted in the key's window when the round began
    cpu_us: float  # Redis CPU per request
    command_us: float  # Redis time inside commands per request
    calls: dict[str, float]  # calls per request, by command
    per_read: float  # requests per socket read: how many calls shared a write


@dataclass
class RedisMeter:
    url: str
    probe: Target  # one authenticated quote request: its RateLimit-Remaining gives the fill
    limit: int
    metered: Side | None = None  # the side whose rounds are metered (the others just run)
    rounds: list[RedisRound] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = redis.Redis.from_url(self.url)

    def fill(self) -> int:
        remaining = fetch_sync(self.probe).headers.get("ratelimit-remaining")
        return self.limit - int(remaining) if remaining is not None else -1

    def around(self, side: Side, run: Callable[[], Round]) -> tuple[Round, str | None]:
        """`_rounds.RoundProbe`: Redis read around every round of the metered side."""
        if side is not self.metered:
            return run(), None
        fill = self.fill()
        before = RedisInfo.read(self.client)
        result = run()
        after = RedisInfo.read(self.client)
        n = max(1, result.load.requests)
        calls = {
            name: (count - before.calls.get(name, 0)) / n
            for name, count in after.calls.items()
            if count - before.calls.get(name, 0) > 0
        }
        self.rounds.append(
            RedisRound(
                result.load.requests,
                fill,
                (after.cpu_s - before.cpu_s) * 1e6 / n,
                (after.command_usec - before.command_usec) / n,
                calls,
                n / max(1, after.reads - before.reads),
            )
        )
        r = self.rounds[-1]
        return result, (
            f"    Redis: window fill {r.fill:,} at the start, CPU {r.cpu_us:.1f} "
            f"us/request, inside commands {r.command_us:.1f} us/request, "
            f"{r.per_read:.1f} requests per socket read"
        )

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ verdicts

    def median_cpu_us(self) -> float:
        return statistics.median(r.cpu_us for r in self.rounds)

    def median_command_us(self) -> float:
        return statistics.median(r.command_us for r in self.rounds)

    def emptiest(self) -> RedisRound:
        return min(self.rounds, key=lambda r: r.fill)

    def fullest(self) -> RedisRound:
        return max(self.rounds, key=lambda r: r.fill)

    def flat_ratio(self) -> float:
        return self.fullest().cpu_us / self.emptiest().cpu_us

    def calls_text(self) -> str:
        totals: dict[str, list[float]] = {}
        for r in self.rounds:
            for name, per in r.calls.items():
                totals.setdefault(name, []).append(per)
        parts = [
            f"{name} {statistics.median(values):.3f}"
            for name, values in sorted(totals.items(), key=lambda kv: -max(kv[1]))
            if max(values) >= 0.001
        ]
        return ", ".join(parts) or "none"

    def round_lines(self) -> list[str]:
        return [
            f"round {i + 1}: window fill {r.fill:,} at the start, {r.requests:,} requests, "
            f"Redis CPU {r.cpu_us:.1f} us/request, inside commands {r.command_us:.1f} "
            f"us/request, {r.per_read:.1f} requests per socket read"
            for i, r in enumerate(self.rounds)
        ]


REDIS_HEADER = ("measurement (Redis)", "figure", "reference", "ratio", "bar", "result")


def redis_rows(meter: RedisMeter, fills: FillComparison, all_ok: bool) -> list[tuple[str, ...]]:
    n = len(meter.rounds)
    cpu = meter.median_cpu_us()
    low, high = meter.emptiest(), meter.fullest()
    flat = fills.ratio
    return [
        (
            f"Redis CPU per request (used_cpu_sys + used_cpu_user), A's rounds, median of {n}",
            f"{cpu:.1f} us",
            "-",
            "-",
            f"<= {CPU_BAR_US:g} us",
            verdict(cpu <= CPU_BAR_US and all_ok),
        ),
        (
            f"Redis time inside commands per request (commandstats usec), median of {n}",
            f"{meter.median_command_us():.1f} us",
            "-",
            "-",
            "-",
            "info",
        ),
        (
            f"Redis CPU per limiter call, window fill >= {fills.high_fill:,} vs <= "
            f"{fills.low_fill:,} (alternating blocks, median of {len(fills.high_us)})",
            f"{fills.high:.2f} us",
            f"{fills.low:.2f} us",
            f"{flat:.2f}x",
            f"{1 / FLAT_BAR:.2f}x to {FLAT_BAR:.2f}x",
            verdict(1 / FLAT_BAR <= flat <= FLAT_BAR),
        ),
        (
            f"Redis CPU per request, A's rounds: window fill {high.fill:,} vs {low.fill:,}",
            f"{high.cpu_us:.1f} us",
            f"{low.cpu_us:.1f} us",
            f"{high.cpu_us / low.cpu_us:.2f}x",
            "-",
            "info",
        ),
    ]


def redis_report(
    meter: RedisMeter, fills: FillComparison, all_ok: bool, cache_in_redis: bool
) -> ModeReport:
    cache = (
        "the quote cache in Redis too (`--redis-cache`)"
        if cache_in_redis
        else "the quote cache in process memory (`QUANTDESK_CACHE_BACKEND=memory`), so Redis "
        "serves the rate limiter alone"
    )
    notes = [
        f"Redis commands per request (median over A's rounds): {meter.calls_text()}; the "
        "script's HMGET and HINCRBY (HSET and PEXPIRE when a window starts) run inside its "
        "EVALSHA.",
        *(f"Redis, {line}." for line in meter.round_lines()),
        "Redis' CPU per request in A's rounds moves with how many calls share a socket read "
        "and with the machine's load (the rounds are seconds apart), not with the window's "
        "fill: the commands per request are the same in every round. The fill comparison "
        "(second row from the bottom) takes the drift out by alternating; per block, Redis "
        "CPU per call at the full key: "
        + ", ".join(f"{v:.2f}" for v in fills.high_us)
        + " us; at fresh keys: "
        + ", ".join(f"{v:.2f}" for v in fills.low_us)
        + " us. tests/ratelimit/test_stores_agree.py checks the commands stay one EVALSHA, "
        "one HMGET and one HINCRBY at 500, 1,000 and 1,500 requests in the window.",
    ]
    method = (
        "**Redis mode**: A also gets `QUANTDESK_REDIS_URL` of a throwaway `redis-server` "
        "(127.0.0.1, a free port, no persistence; tests/support/redis_server.py), with "
        f"{cache}. The rate limiter counts every request with one EVALSHA of its "
        "sliding-window script (docs/rate-limits.md). Around each of A's rounds the benchmark "
        "reads Redis `INFO`: CPU (`used_cpu_sys + used_cpu_user`: network, parsing and "
        "scripts) and `commandstats` (time inside top-level commands) per request; one "
        "request before each round reads the window's fill (the limit minus "
        "`RateLimit-Remaining`). After the rounds, the fill comparison "
        "(benchmarks/_access_fill.py) drives the limiter's Redis counters directly, as the "
        "app does under load (64 concurrent callers, pipelined), in blocks alternating "
        "between a key whose window already holds 100,000 requests and a fresh key per "
        "block, with Redis CPU read around each block; its bar asks the two medians to be "
        "equal within 25%."
    )
    return ModeReport(
        flag="--storage redis" + (" --redis-cache" if cache_in_redis else ""),
        name="Redis mode",
        start=REDIS_SECTION_START,
        end=REDIS_SECTION_END,
        table=markdown_table(REDIS_HEADER, redis_rows(meter, fills, all_ok)),
        notes=notes,
        method=method,
    )
