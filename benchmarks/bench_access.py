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
as FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from limits import parse as parse_limit
from pydantic import SecretStr

from benchmarks._docs import (
    DOCS_PATH,
    cpu_name,
    markdown_table,
    print_table,
    revision,
    write_section,
)
from benchmarks._processes import exit_on_signal, stop_process
from benchmarks.loadgen import (
    LoadError,
    LoadResult,
    Target,
    check_load_args,
    fetch_sync,
    run_load,
)
from quantdesk import migrate
from quantdesk.auth.api_keys import api_key_service
from quantdesk.auth.principal import Principal
from quantdesk.auth.schemas import ApiKeyCreate
from quantdesk.auth.scopes import ROLE_SCOPES, Role
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo

SYMBOL = "GOOG"  # daily demo series, so its quote has every field
ROLE = Role.PREMIUM
# The premium tier raised so no request of the run is refused, while every request is still
# counted by the limiter. At the default 1000/minute the first second of load would be 429s.
TIER_LIMIT = "1000000/minute"
QUOTE_PATH = f"/api/v1/quotes/{SYMBOL}"
READY_PATH = "/health/ready"

CONNECTIONS = 32
CLIENT_PROCESSES = 1
ROUNDS = 3
ROUND_SECONDS = 4.0
WARMUP_SECONDS = 1.0
MAX_REQUESTS_PER_ROUND = 500_000  # a safety bound; the duration ends every round first

RPS_BAR = 0.6  # requests/s of A >= 0.6 x requests/s of B
P99_BAR = 2.0  # p99 of A <= 2 x p99 of B

# What A must show on every answer, per the issue: request id, security headers, rate limit.
REQUIRED_HEADERS = ("x-request-id", "x-content-type-options", "content-security-policy")
RATE_LIMIT_HEADER = "ratelimit-limit"

ROOT = Path(__file__).resolve().parents[1]
SECTION_START = "<!-- bench:access:start -->"
SECTION_END = "<!-- bench:access:end -->"


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # After the ")" closing the command name: field 14 (utime) is index 11, 15 (stime) 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A uvicorn subprocess: `uvicorn APP --host 127.0.0.1 --port P --workers 1 ...`."""

    name: str
    app: str
    env: dict[str, str]
    cwd: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def target(self, path: str, headers: Mapping[str, str] | None = None) -> Target:
        return Target("127.0.0.1", self.port, path, tuple((headers or {}).items()))

    def start(self, ready_path: str, timeout: float = 60.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        probe = self.target(ready_path)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                if fetch_sync(probe, timeout=2.0).status == 200:
                    return
            except (OSError, LoadError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def running(server: Server, ready_path: str) -> Iterator[Server]:
    try:
        server.start(ready_path)
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- data


def base_env() -> dict[str, str]:
    """This environment without any QUANTDESK_* setting (the runs set their own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}


@dataclass(frozen=True)
class Prepared:
    url: str
    env: dict[str, str]
    api_key: str


def prepare(tmp: Path, tier_limit: str) -> Prepared:
    """A migrated SQLite database with the demo data, a premium user and an API key."""
    url = f"sqlite+aiosqlite:///{tmp / 'access.db'}"
    secret_key = secrets.token_urlsafe(48)
    env = {
        **base_env(),
        "QUANTDESK_ENVIRONMENT": "development",
        "QUANTDESK_DATABASE_URL": url,
        "QUANTDESK_SECRET_KEY": secret_key,
        "QUANTDESK_LOG_LEVEL": "WARNING",
        "QUANTDESK_MAIL_DIR": str(tmp / "mail"),
        f"QUANTDESK_RATE_LIMIT_{ROLE.value.upper()}": tier_limit,
    }
    migrate.upgrade(url)
    # The server derives the key pepper from the same secret_key, so the hash matches.
    settings = Settings(_env_file=None, database_url=url, secret_key=SecretStr(secret_key))
    return Prepared(url, env, asyncio.run(_load(settings)))


async def _load(settings: Settings) -> str:
    db = Database(settings)
    try:
        async with db.session() as session:
            await load_demo(session)
        async with db.session() as session:
            user = await auth_service.register(
                session,
                email="bench-access@example.com",
                password="Qd-" + secrets.token_urlsafe(24),
                role=ROLE,
                client=ClientInfo("127.0.0.1", "bench_access"),
            )
            principal = Principal(
                user_id=user.id, role=ROLE, scopes=ROLE_SCOPES[ROLE], client_ip="127.0.0.1"
            )
            _, secret = await api_key_service.create(
                session, settings, principal, ApiKeyCreate(name="bench_access")
            )
        return secret
    finally:
        await db.dispose()


# --------------------------------------------------------------------------- measuring


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


@dataclass
class Side:
    name: str
    server: Server
    target: Target
    rounds: list[Round] = field(default_factory=list)
    warmup: LoadResult | None = None

    def best_rps(self) -> float:
        return max(r.load.rps for r in self.rounds)

    def best_p99(self) -> float:
        return min(r.load.p99_ms for r in self.rounds)

    def median(self, pick: Callable[[Round], float]) -> float:
        return statistics.median(pick(r) for r in self.rounds)

    def statuses(self) -> dict[int, int]:
        total: dict[int, int] = {}
        for r in self.rounds:
            for status, count in r.load.statuses.items():
                total[status] = total.get(status, 0) + count
        return total

    def errors(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for r in self.rounds:
            for name, count in r.load.errors.items():
                total[name] = total.get(name, 0) + count
        return total

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


def interleave(sides: Sequence[Side], shape: LoadShape) -> None:
    for side in sides:
        warm = measure(side, shape, shape.warmup_seconds)
        side.warmup = warm.load
        print_round("warm-up", side, warm)
    for index in range(shape.rounds):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        for side in order:
            result = measure(side, shape, shape.round_seconds)
            side.rounds.append(result)
            print_round(f"round {index + 1}/{shape.rounds}", side, result)


# --------------------------------------------------------------------------- checks


@dataclass
class Checks:
    """What A's answer shows, checked once before the load."""

    missing_headers: list[str]
    rate_limit: str | None  # the RateLimit-Limit A reported; None: the limiter is not wired
    same_body: bool
    body_bytes: int
    notes: list[str] = field(default_factory=list)

    @property
    def rate_limited(self) -> bool:
        return self.rate_limit is not None


def check_answers(
    a_headers: Mapping[str, str], a_body: bytes, b_body: bytes, tier_limit: str
) -> Checks:
    missing = [name for name in REQUIRED_HEADERS if name not in a_headers]
    checks = Checks(
        missing_headers=missing,
        rate_limit=a_headers.get(RATE_LIMIT_HEADER),
        same_body=a_body == b_body,
        body_bytes=len(a_body),
    )
    if missing:
        checks.notes.append("A's answer lacks " + ", ".join(missing))
    if not checks.rate_limited:
        checks.notes.append(
            "rate limiter not yet wired: A's answer has no RateLimit-Limit header, so A was "
            "measured without rate limiting"
        )
    elif checks.rate_limit != str(parse_limit(tier_limit).amount):
        checks.notes.append(
            f"A reports RateLimit-Limit {checks.rate_limit}, not the {tier_limit} asked for: "
            f"QUANTDESK_RATE_LIMIT_{ROLE.value.upper()} was not applied (expect 429s)"
        )
    if not checks.same_body:
        checks.notes.append("B's body differs from A's (same document, different bytes)")
    return checks


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    measurement: str
    quantdesk: str
    bare: str
    ratio: str
    bar: str
    result: str


HEADER = ("measurement", "quantdesk (A)", "bare FastAPI (B)", "ratio A/B", "bar", "result")


def verdict(passed: bool | None) -> str:
    if passed is None:
        return "info"
    return "PASS" if passed else "FAIL"


def rows(a: Side, b: Side, all_ok: bool) -> list[Row]:
    rps_ratio = a.best_rps() / b.best_rps()
    p99_ratio = a.best_p99() / b.best_p99()
    n = len(a.rounds)

    def med(side: Side, pick: Callable[[Round], float]) -> float:
        return side.median(pick)

    def rps(r: Round) -> float:
        return r.load.rps

    def p50(r: Round) -> float:
        return r.load.p50_ms

    def p99(r: Round) -> float:
        return r.load.p99_ms

    return [
        Row(
            f"requests/s, best of {n}",
            f"{a.best_rps():,.0f}",
            f"{b.best_rps():,.0f}",
            f"{rps_ratio:.2f}x",
            f">= {RPS_BAR:.2f}x",
            verdict(rps_ratio >= RPS_BAR and all_ok),
        ),
        Row(
            f"p99 latency, best of {n}",
            f"{a.best_p99():.2f} ms",
            f"{b.best_p99():.2f} ms",
            f"{p99_ratio:.2f}x",
            f"<= {P99_BAR:.2f}x",
            verdict(p99_ratio <= P99_BAR and all_ok),
        ),
        Row(
            f"requests/s, median of {n}",
            f"{med(a, rps):,.0f}",
            f"{med(b, rps):,.0f}",
            f"{med(a, rps) / med(b, rps):.2f}x",
            "-",
            "info",
        ),
        Row(
            f"p99 latency, median of {n}",
            f"{med(a, p99):.2f} ms",
            f"{med(b, p99):.2f} ms",
            f"{med(a, p99) / med(b, p99):.2f}x",
            "-",
            "info",
        ),
        Row(
            f"p50 latency, median of {n}",
            f"{med(a, p50):.2f} ms",
            f"{med(b, p50):.2f} ms",
            f"{med(a, p50) / med(b, p50):.2f}x",
            "-",
            "info",
        ),
        Row(
            "server CPU while loaded, median",
            f"{med(a, lambda r: r.server_cpu):.0%}",
            f"{med(b, lambda r: r.server_cpu):.0%}",
            "-",
            "-",
            "info",
        ),
        Row(
            "client CPU while loaded, median",
            f"{med(a, lambda r: r.client_cpu):.0%}",
            f"{med(b, lambda r: r.client_cpu):.0%}",
            "-",
            "-",
            "info",
        ),
        Row(
            "other CPU on the machine, median",
            f"{med(a, lambda r: r.other_cpu):.0%}",
            f"{med(b, lambda r: r.other_cpu):.0%}",
            "-",
            "-",
            "info",
        ),
    ]


def cells(found: Sequence[Row]) -> list[tuple[str, ...]]:
    return [(r.measurement, r.quantdesk, r.bare, r.ratio, r.bar, r.result) for r in found]


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


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> str:
    cpu = cpu_name()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    parts = [
        f"{os.cpu_count()} CPUs ({cpu})",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
        f"SQLite {sqlite3.sqlite_version}",
        *(
            f"{name} {package_version(name)}"
            for name in ("uvicorn", "uvloop", "httptools", "fastapi", "starlette", "limits")
        ),
        f"load average before the run {load}",
    ]
    return ", ".join(parts)


METHOD = (
    "**A** = `uvicorn quantdesk.main:app`, the real app with its default settings (the edge: "
    "request id, trusted hosts, CORS, IP blocks, body limits, security and rate-limit headers, "
    "access log and request metrics; API-key authentication and the rate limiter in the "
    "route's policy dependency; the quote served from the cache) on a temporary SQLite "
    "database with the demo data, "
    "`QUANTDESK_LOG_LEVEL=WARNING`, one {role} user and one API key sent as `X-API-Key`; "
    "the {role} tier is raised to `{tier}` (`QUANTDESK_RATE_LIMIT_{ROLE}`) so no request of "
    "the run is refused while each one is still counted. **B** = `uvicorn "
    "benchmarks._bare_app:app`, a bare FastAPI app with the same route answering the "
    "document A answered ({bare_mode}; no middleware, dependencies or database). Both: "
    "`--host 127.0.0.1 --workers 1 --no-access-log --log-level warning` (uvicorn picks uvloop "
    "and httptools). Load: `benchmarks/loadgen.py` in {processes} separate client "
    "process(es), {connections} keep-alive HTTP/1.1 connections sending requests back to back "
    "(closed loop), latency from the request's write to its last body byte. Each server gets "
    "a {warmup:g} s warm-up, then {rounds} rounds of {seconds:g} s, A and B interleaved and "
    "alternating who goes first: {total:g} s of load per server (the issue allows 15 s). The "
    "table compares the best round of each side (highest requests/s, lowest p99); server CPU "
    "is the uvicorn process's user + system time (all threads) over the round's wall time "
    "(~100%: the server was the bottleneck), client CPU the load generator's, and other CPU "
    "the rest of the machine's busy time (`/proc/stat`) in the same interval: other jobs "
    "and kernel work, the measure of how shared the machine was. In a closed loop a "
    "saturated server's latency is about connections / throughput, so the p99 ratio tracks "
    "the inverse of the requests/s ratio."
)


def section(
    table: Sequence[Row],
    a: Side,
    b: Side,
    checks: Checks,
    shape: LoadShape,
    tier_limit: str,
    bare_mode: str,
    info: str,
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    method = METHOD.format(
        role=ROLE.value,
        ROLE=ROLE.value.upper(),
        tier=tier_limit,
        bare_mode=(
            "returned as a dict, encoded by FastAPI"
            if bare_mode == "dict"
            else "returned as the stored bytes"
        ),
        processes=shape.processes,
        connections=shape.connections,
        warmup=shape.warmup_seconds,
        rounds=shape.rounds,
        seconds=shape.round_seconds,
        total=shape.warmup_seconds + shape.rounds * shape.round_seconds,
    )
    if checks.rate_limited:
        limiting = f"active (A reports RateLimit-Limit {checks.rate_limit})"
    else:
        limiting = "NOT active: the rate limiter is not yet wired into the app"
    headers = (
        "present" if not checks.missing_headers else "MISSING " + ", ".join(checks.missing_headers)
    )
    identical = "byte-identical" if checks.same_body else "NOT byte-identical"
    features = [
        f"Rate limiting: {limiting}.",
        f"Request id and security headers on A's answers: {headers}.",
        f"Body: {checks.body_bytes} bytes, {identical} from A and B.",
        f"Statuses, A: {a.status_text()}; B: {b.status_text()}.",
    ]
    return "\n".join(
        [
            SECTION_START,
            f"## Access: authenticated, rate-limited `GET {QUOTE_PATH}`",
            "",
            f"`python -m benchmarks.bench_access`, run {when} on {revision()}.",
            "",
            f"Machine: {info}.",
            "",
            *markdown_table(HEADER, cells(table)),
            "",
            *(f"- {line}" for line in features),
            *(f"- {line}" for line in round_ratios(a, b)),
            *(f"- Bottleneck, {bottleneck(side)}." for side in (a, b)),
            "",
            method,
            SECTION_END,
        ]
    )


def write_docs(text: str) -> None:
    write_section(text, SECTION_START, SECTION_END)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument(
        "--client-processes", type=int, default=CLIENT_PROCESSES, help="load-generator processes"
    )
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--round-seconds", type=float, default=ROUND_SECONDS)
    parser.add_argument("--warmup-seconds", type=float, default=WARMUP_SECONDS)
    parser.add_argument("--tier-limit", default=TIER_LIMIT, help=f"the {ROLE.value} tier")
    parser.add_argument("--bare-mode", choices=("dict", "bytes"), default="dict")
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    check_load_args(parser, args)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_signal)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter
    shape = LoadShape(
        args.connections,
        args.client_processes,
        args.rounds,
        args.round_seconds,
        args.warmup_seconds,
    )
    info = machine()
    begun = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="quantdesk-bench-access-"))
    try:
        print("Preparing the database (demo data, premium user, API key) ...", flush=True)
        prepared = prepare(tmp, args.tier_limit)
        with ExitStack() as stack:
            server_a = stack.enter_context(
                running(
                    Server("A", "quantdesk.main:app", prepared.env, tmp, tmp / "a.log"), READY_PATH
                )
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
            interleave([a, b], shape)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    all_ok = set(a.statuses()) == {200} and not a.errors()
    table = rows(a, b, all_ok)
    print()
    print_table(HEADER, cells(table))
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
    print(f"\n{info}\nTotal {time.perf_counter() - begun:.0f} s")
    if not args.no_docs:
        write_docs(section(table, a, b, checks, shape, args.tier_limit, args.bare_mode, info))
        print(f"Wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
