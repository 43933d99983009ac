"""`python -m benchmarks.scaleout.cpu_shape`: the scale-out shape as server CPU per request.

Issue 16: with the shared Redis rate limiter and cache, the CPU seconds the API replicas spend
per 1,000 quote requests with 2 replicas must be at most 1.15x those of 1 replica (no hidden
serialization, no cross-replica chatter). CPU per request does not depend on how many cores
the machine has, where requests/s on a shared 2-core machine would.

Method (docs/scale-out.md, "CPU per request"): one loopback cluster of 2 replicas and 1 worker
(`quantdesk cluster up`: Redis limiter, Redis cache, PostgreSQL, beat, haproxy). "2 replicas"
is the cluster's haproxy (roundrobin over api1 and api2); "1 replica" is a second haproxy this
benchmark starts with the same configuration (quantdesk.cluster.haproxy) and api1 alone in
its backend. Each window: a load generator process (benchmarks/scaleout/cpu_load.py) opens
`--connections` keep-alive connections to that haproxy, warms up (`--warmup` requests), then
sends GET /api/v1/quotes/{symbol} cycling over the same symbols, as a guest (the per-IP
limiter is checked in Redis on every request), in a fixed schedule. Around the window: user +
system CPU of every serving replica process and its children (psutil), Redis' used_cpu_user +
used_cpu_sys and commands processed (INFO) and the haproxy's CPU. Windows run 1, 2, 2, 1
replicas (drift on the shared machine cancels); each side's figure is the sum of its windows'
CPU over the sum of their requests.

The bar is scale-out as it is used: 1 replica at `--rate` requests/s, 2 replicas at twice
that, so each replica is as busy as the one alone. Cross-replica work (chatter, contention on
a shared key or lock) would raise the 2-replica figure there. Two diagnostics follow: the same
requests at the same total rate to 1 and to 2 replicas (each of the 2 half as busy: an event
loop pays more CPU per request when it is less busy, fewer requests per wake-up and colder
caches), and a closed loop (saturation: the one replica busy all the time). The whole run is
bounded by `--budget` seconds (windows that would not fit are skipped, one window per side of
the bar at least). Always exits 0; a missed bar is printed as FAIL.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import redis

from benchmarks.scaleout.cpu_load import Generator, LoadOutcome
from benchmarks.scaleout.cpu_report import Side, render, write_doc
from quantdesk.cluster import procs
from quantdesk.cluster.binaries import find_binary
from quantdesk.cluster.control import down
from quantdesk.cluster.haproxy import render_haproxy
from quantdesk.cluster.launch import up
from quantdesk.cluster.state import HOST, ClusterState, free_port

SYMBOLS = ("GOOG", "EURUSD", "BTCUSD")  # the locust mix's symbols, demo data
SETTLE_SECONDS = 0.5  # after the last answer: work done after a response is counted too
WINDOW_TIMEOUT = 90.0


@dataclass(frozen=True)
class Window:
    """One measured window: the load's outcome and the CPU spent meanwhile."""

    replicas: int
    load: LoadOutcome
    replica_cpu_s: float
    redis_cpu_s: float
    haproxy_cpu_s: float
    redis_commands: int  # every client's: cross-replica chatter would show here
    seconds: float  # wall time from the first CPU reading to the second


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=4_000, help="per window of 1 replica (4,000)"
    )
    parser.add_argument("--connections", type=int, default=8, help="concurrency (8)")
    parser.add_argument("--warmup", type=int, default=500, help="requests before each window")
    parser.add_argument(
        "--rate",
        type=float,
        default=500.0,
        help="requests/s per replica in the bar (fixed schedule), total in the diagnostic (500)",
    )
    parser.add_argument("--no-diagnostics", action="store_true", help="measure the bar only")
    parser.add_argument("--budget", type=float, default=165.0, help="seconds, cluster up included")
    parser.add_argument("--dir", type=Path, default=Path("var/cluster-cpu-shape"))
    parser.add_argument("--no-doc", action="store_true", help="print, leave the doc alone")
    return parser.parse_args()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their live children."""
    total = 0.0
    for pid in pids:
        process = psutil.Process(pid)
        for member in [process, *process.children(recursive=True)]:
            try:
                times = member.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
    return total


def _redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _redis_commands(client: redis.Redis) -> int:
    """Commands Redis has processed (the INFO call itself adds one)."""
    return int(client.info("stats")["total_commands_processed"])


class Balancer:
    """A haproxy in front of some replicas: the cluster's own, or one this run starts."""

    def __init__(self, url: str, pid: int, replica_pids: list[int]) -> None:
        self.url = url
        self.pid = pid
        self.replica_pids = replica_pids
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def single(cls, state: ClusterState, directory: Path) -> Balancer:
        """A haproxy with the cluster's configuration and api1 alone behind it."""
        api1 = next(s for s in state.services if s.name == "api1")
        assert api1.port is not None
        port = free_port()
        config = directory / "haproxy-api1.cfg"
        config.write_text(render_haproxy(port, free_port(), [api1.port]))
        log = (directory / "logs" / "haproxy-api1.log").open("ab")
        haproxy = str(find_binary("haproxy", "haproxy"))
        process = subprocess.Popen(
            [haproxy, "-f", str(config), "-db"], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        balancer = cls(f"http://{HOST}:{port}", process.pid, [api1.pid])
        balancer.process = process
        procs.wait_until(balancer.ready, 30, "haproxy in front of api1")
        return balancer

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def measure(
    balancer: Balancer,
    replicas: int,
    args: argparse.Namespace,
    rd: redis.Redis,
    requests: int,
    rate: float,
) -> Window:
    paths = [f"/api/v1/quotes/{symbol}" for symbol in SYMBOLS]
    generator = Generator(balancer.url, paths, args.connections, args.warmup, requests, rate)
    try:
        warm = generator.ready()
        if warm.ok != warm.requests:
            raise RuntimeError(f"warm-up through {balancer.url}: statuses {warm.statuses}")
        time.sleep(SETTLE_SECONDS)
        started = time.monotonic()
        cpu, rcpu, hcpu, commands = (
            _cpu_seconds(balancer.replica_pids),
            _redis_cpu(rd),
            _cpu_seconds([balancer.pid]),
            _redis_commands(rd),
        )
        load = generator.run(WINDOW_TIMEOUT)
        time.sleep(SETTLE_SECONDS)
        window = Window(
            replicas=replicas,
            load=load,
            replica_cpu_s=_cpu_seconds(balancer.replica_pids) - cpu,
            redis_cpu_s=_redis_cpu(rd) - rcpu,
            haproxy_cpu_s=_cpu_seconds([balancer.pid]) - hcpu,
            redis_commands=_redis_commands(rd) - commands - 1,
            seconds=time.monotonic() - started,
        )
    finally:
        generator.close()
    per_1000 = window.replica_cpu_s * 1000 / max(1, load.requests)
    print(
        f"  {replicas} replica(s): {load.requests:,} requests in {load.elapsed_s:.1f} s "
        f"({load.rps:,.0f}/s), p50 {load.percentile_ms(0.5):.1f} ms, "
        f"p99 {load.percentile_ms(0.99):.1f} ms; replicas {window.replica_cpu_s:.2f} CPU-s "
        f"({per_1000:.2f} per 1,000), Redis {window.redis_cpu_s:.2f}, haproxy "
        f"{window.haproxy_cpu_s:.2f}, Redis commands per request "
        f"{window.redis_commands / max(1, load.requests):.2f}; statuses {load.statuses}, "
        f"X-Cache {load.cache}",
        flush=True,
    )
    return window


def idle_cpu(pids: list[int], seconds: float = 3.0) -> float:
    """CPU-s per second the replicas spend with no requests (health checks, monitor, bus)."""
    before = _cpu_seconds(pids)
    time.sleep(seconds)
    return (_cpu_seconds(pids) - before) / seconds


@dataclass(frozen=True)
class Pass:
    """One comparison of 1 and 2 replicas: how many requests each side gets, at what rate."""

    key: str  # "bar", "same-total", "saturation"
    requests: tuple[int, int]  # per window: 1 replica, 2 replicas
    rates: tuple[float, float]  # requests/s (0: closed loop)


def passes(args: argparse.Namespace) -> list[Pass]:
    """The bar (scale-out as it is used: twice the load on twice the replicas, each replica
    as busy as the one alone), then the diagnostics: the same requests at the same total rate
    (each of 2 replicas half as busy as the one alone) and a closed loop (saturation)."""
    rate, requests = args.rate, args.requests
    found = [Pass("bar", (requests, 2 * requests), (rate, 2 * rate))]
    if not args.no_diagnostics:
        found.append(Pass("same-total", (requests, requests), (rate, rate)))
        found.append(Pass("saturation", (requests, requests), (0.0, 0.0)))
    return found


def run(
    state: ClusterState, args: argparse.Namespace, deadline: float
) -> list[tuple[str, list[Side]]]:
    """Each pass's key and sides (1 and 2 replicas), the bar's first, as time allows."""
    api_pids = [s.pid for s in state.services if s.kind == "api"]
    haproxy_pid = next(s.pid for s in state.services if s.kind == "haproxy")
    both = Balancer(state.url, haproxy_pid, api_pids)
    one = Balancer.single(state, Path(state.dir))
    rd = redis.Redis.from_url(state.redis_url)
    plan = passes(args)
    windows: list[list[Window]] = [[] for _ in plan]
    try:
        idle = idle_cpu(api_pids) / len(api_pids)  # per replica
        print(f"  idle: {idle * 1000:.1f} ms CPU per second per replica", flush=True)
        longest = 0.0  # a whole window: generator start, warm-up, measured requests
        for index, spec in enumerate(plan):
            print(f"  {spec.key}:", flush=True)
            for replicas in (1, 2, 2, 1):
                done = windows[index]
                if time.monotonic() + longest * 1.2 + 5 > deadline and (
                    index > 0 or {1, 2} <= {w.replicas for w in done}
                ):
                    print(f"  time budget: a {replicas}-replica window skipped")
                    continue
                began = time.monotonic()
                balancer = one if replicas == 1 else both
                requests, rate = spec.requests[replicas - 1], spec.rates[replicas - 1]
                done.append(measure(balancer, replicas, args, rd, requests, rate))
                longest = max(longest, time.monotonic() - began)
    finally:
        one.stop()
        rd.close()
    return [
        (spec.key, [Side.of(n, [w for w in found if w.replicas == n], idle * n) for n in (1, 2)])
        for spec, found in zip(plan, windows, strict=True)
        if {1, 2} <= {w.replicas for w in found}
    ]


def main() -> int:
    args = _arguments()
    deadline = time.monotonic() + args.budget
    started = not procs.any_alive(args.dir)
    if started:
        print(f"cluster up in {args.dir} (2 replicas, 1 worker) ...", flush=True)
        state = up(args.dir, 2, 1)
    else:
        state = ClusterState.load(args.dir)
        if state.replicas != 2:
            raise SystemExit(f"the cluster in {args.dir} has {state.replicas} replicas: need 2")
    try:
        print(f"cluster ready after {args.budget - (deadline - time.monotonic()):.0f} s")
        sides = run(state, args, deadline)
    finally:
        if started:
            down(args.dir)
    section = render(sides, args, SYMBOLS)
    print(section)
    if not args.no_doc:
        write_doc(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
