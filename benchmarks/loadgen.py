"""A small HTTP/1.1 keep-alive load generator in pure asyncio (uvloop when installed).

N connections per client process each send one request, read the whole response (status
line, headers, `Content-Length` body) and send the next one at once: a closed loop, like
`wrk`. A run stops at whichever comes first, a request budget or a duration (at most
MAX_DURATION seconds). Each request's latency is taken with `perf_counter_ns` from just
before the write to the last body byte; connection set-up is not timed.

httpx is far too slow to saturate even a bare FastAPI server from one core; this reads raw
bytes with `asyncio.open_connection` and only looks at what it must (status code,
`Content-Length`, `Connection: close`, chunked bodies for completeness).

Several client processes (`processes=2`) can share the load when one process is the
bottleneck; each reports its own CPU time so the caller can tell client from server limits.

A target may be a POST (or any method) with a body; `{n}` in a header value or the body is
replaced on every request by a value unique to the load (a random prefix per client process
and a counter), e.g. `Idempotency-Key: bench-{n}` so each request places a new order.
Without `{n}` the request bytes are built once, as before.

    python -m benchmarks.loadgen http://127.0.0.1:8000/health/live -c 32 -d 5
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import multiprocessing
import os
import sys
import time
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_DURATION = 15.0  # seconds: the bound on one measured load
DEFAULT_CONNECTIONS = 32
DEFAULT_MAX_REQUESTS = 1_000_000
READ_LIMIT = 1 << 20  # bytes a header block may take (asyncio's StreamReader limit)


class LoadError(RuntimeError):
    """The server answered something this client cannot read, or not at all."""


PLACEHOLDER = "{n}"  # replaced per request by a value unique to the load


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body: bytes = b""  # sent with a Content-Length when not empty

    @classmethod
    def from_url(
        cls,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        body: bytes = b"",
    ) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r}: only plain http://host[:port]/path URLs")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        items = tuple((headers or {}).items())
        return cls(parts.hostname, parts.port or 80, path, items, method, body)

    @property
    def templated(self) -> bool:
        """Whether a header value or the body holds `{n}` (each request differs)."""
        marker = PLACEHOLDER.encode()
        return marker in self.body or any(PLACEHOLDER in value for _, value in self.headers)

    def request_bytes(self, n: str = "0") -> bytes:
        """The request, with `{n}` (if any) replaced by `n`."""
        body = self.body.replace(PLACEHOLDER.encode(), n.encode("latin-1"))
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines.extend(f"{name}: {value.replace(PLACEHOLDER, n)}" for name, value in self.headers)
        if body or self.method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Numbers:
    """Values for `{n}`: a random prefix per client process and a counter."""

    def __init__(self) -> None:
        self.prefix = os.urandom(6).hex()
        self.count = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}-{next(self.count)}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    body: bytes
    close: bool  # the server asked to close the connection


async def read_response(reader: asyncio.StreamReader) -> Response:
    """One whole HTTP/1.1 response from `reader` (Content-Length or chunked body)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise LoadError("connection closed before a response arrived") from exc
    status_line, _, header_block = head[:-4].partition(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise LoadError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    length = headers.get("content-length")
    if length is not None:
        body = await reader.readexactly(int(length))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        raise LoadError(f"status {status} without Content-Length or chunked encoding")
    return Response(status, headers, body, headers.get("connection", "").lower() == "close")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers expected: the final CRLF
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def fetch(target: Target) -> Response:
    """One request on a fresh connection (for checks, not for load)."""
    reader, writer = await asyncio.open_connection(target.host, target.port, limit=READ_LIMIT)
    try:
        writer.write(target.request_bytes(_Numbers().next()))
        return await read_response(reader)
    finally:
        writer.close()
        await writer.wait_closed()


def fetch_sync(target: Target, timeout: float = 10.0) -> Response:
    async def bounded() -> Response:
        async with asyncio.timeout(timeout):
            return await fetch(target)

    return asyncio.run(bounded())


# --------------------------------------------------------------------------- one process


@dataclass
class ProcessResult:
    """What one client process measured (plain data: it crosses process boundaries)."""

    latencies_ns: array[int]  # array('q'), one per completed request
    statuses: dict[int, int]
    errors: dict[str, int]
    started_ns: int  # time.time_ns() when the first request went out (all processes share it)
    elapsed_s: float  # first request out to last response in
    cpu_s: float  # this process's user + system CPU during the load


@dataclass
class _Budget:
    remaining: int
    deadline_ns: int

    def take(self) -> bool:
        if self.remaining <= 0 or time.perf_counter_ns() >= self.deadline_ns:
            return False
        self.remaining -= 1
        return True


async def _connect(target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(target.host, target.port, limit=READ_LIMIT)


async def _connection_loop(
    target: Target,
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    budget: _Budget,
    latencies: array[int],
    statuses: Counter[int],
    errors: Counter[str],
    numbers: _Numbers,
) -> None:
    request = target.request_bytes()
    templated = target.templated
    reader, writer = streams
    clock = time.perf_counter_ns
    try:
        while budget.take():
            if templated:
                request = target.request_bytes(numbers.next())
            started = clock()
            try:
                writer.write(request)
                response = await read_response(reader)
            except (OSError, LoadError, asyncio.IncompleteReadError) as exc:
                errors[type(exc).__name__] += 1
                writer.close()
                reader, writer = await _connect(target)
                continue
            latencies.append(clock() - started)
            statuses[response.status] += 1
            if response.close:
                writer.close()
                reader, writer = await _connect(target)
    finally:
        writer.close()


async def _run_process(
    target: Target, connections: int, max_requests: int, duration: float, start_at_ns: int
) -> ProcessResult:
    streams = [await _connect(target) for _ in range(connections)]
    # All processes start together, at a wall-clock instant chosen by the parent.
    delay = (start_at_ns - time.time_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)
    latencies: array[int] = array("q")
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    cpu_before = time.process_time()
    started_wall = time.time_ns()
    started = time.perf_counter_ns()
    budget = _Budget(max_requests, started + int(duration * 1e9))
    numbers = _Numbers()
    await asyncio.gather(
        *(
            _connection_loop(target, pair, budget, latencies, statuses, errors, numbers)
            for pair in streams
        )
    )
    elapsed = (time.perf_counter_ns() - started) / 1e9
    cpu = time.process_time() - cpu_before
    return ProcessResult(latencies, dict(statuses), dict(errors), started_wall, elapsed, cpu)


def _event_loop_policy() -> None:
    try:
        import uvloop
    except ImportError:  # plain asyncio still works, a little slower
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _process_main(
    target: Target, connections: int, max_requests: int, duration: float, start_at_ns: int
) -> ProcessResult:
    _event_loop_policy()
    return asyncio.run(_run_process(target, connections, max_requests, duration, start_at_ns))


# --------------------------------------------------------------------------- the result


def percentile(ordered: Sequence[int], fraction: float) -> int:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return 0
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


@dataclass
class LoadResult:
    requests: int
    elapsed_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    errors: dict[str, int]
    connections: int
    processes: int
    client_cpu_s: float  # all client processes together
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    def status_text(self) -> str:
        parts = [f"{status}: {count:,}" for status, count in sorted(self.statuses.items())]
        parts.extend(f"{name}: {count:,}" for name, count in sorted(self.errors.items()))
        return ", ".join(parts) or "none"

    def summary(self) -> str:
        return (
            f"{self.rps:,.0f} req/s ({self.requests:,} in {self.elapsed_s:.2f} s), "
            f"p50 {self.p50_ms:.2f} / p90 {self.p90_ms:.2f} / p99 {self.p99_ms:.2f} / "
            f"max {self.max_ms:.2f} ms; {self.status_text()}"
        )


def combine(parts: Sequence[ProcessResult], connections: int) -> LoadResult:
    latencies = sorted(value for part in parts for value in part.latencies_ns)
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    for part in parts:
        statuses.update(part.statuses)
        errors.update(part.errors)
    # Wall time from the earliest start to the latest end over every process.
    first = min(part.started_ns for part in parts)
    last = max(part.started_ns + part.elapsed_s * 1e9 for part in parts)
    elapsed = max((last - first) / 1e9, 1e-9)
    ms = 1e-6
    return LoadResult(
        requests=len(latencies),
        elapsed_s=elapsed,
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * ms,
        p90_ms=percentile(latencies, 0.90) * ms,
        p99_ms=percentile(latencies, 0.99) * ms,
        max_ms=(latencies[-1] if latencies else 0) * ms,
        statuses=dict(statuses),
        errors=dict(errors),
        connections=connections,
        processes=len(parts),
        client_cpu_s=sum(part.cpu_s for part in parts),
    )


def run_load(
    target: Target,
    *,
    connections: int = DEFAULT_CONNECTIONS,
    max_requests: int = DEFAULT_MAX_REQUESTS,
    duration: float = 5.0,
    processes: int = 1,
) -> LoadResult:
    """Drive `target` with `connections` keep-alive connections split over `processes` client
    processes (1: this process) until `max_requests` responses or `duration` seconds."""
    if not 0 < duration <= MAX_DURATION:
        raise ValueError(f"duration must be in (0, {MAX_DURATION:g}] seconds")
    if connections < processes or processes < 1 or max_requests < 1:
        raise ValueError("need at least one connection per process and one request")
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    budgets = [max_requests // processes + (i < max_requests % processes) for i in range(processes)]
    if processes == 1:
        part = _process_main(target, connections, max_requests, duration, time.time_ns())
        return combine([part], connections)
    # Time for every process to start and connect before the common start instant.
    start_at = time.time_ns() + 1_000_000_000
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(processes) as pool:
        jobs = [
            pool.apply_async(_process_main, (target, share, budget, duration, start_at))
            for share, budget in zip(shares, budgets, strict=True)
        ]
        parts = [job.get(timeout=duration + 60) for job in jobs]
    return combine(parts, connections)


# --------------------------------------------------------------------------- command line


def _header(value: str) -> tuple[str, str]:
    name, sep, content = value.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{value!r}: expected 'Name: value'")
    return name.strip(), content.strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="HTTP/1.1 keep-alive load generator")
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=DEFAULT_CONNECTIONS)
    parser.add_argument("-n", "--requests", type=int, default=DEFAULT_MAX_REQUESTS)
    parser.add_argument("-d", "--duration", type=float, default=5.0, help="seconds, <= 15")
    parser.add_argument("-p", "--processes", type=int, default=1)
    parser.add_argument("-H", "--header", type=_header, action="append", default=[])
    parser.add_argument("-X", "--method", default="GET")
    parser.add_argument("--body", default="", help="request body; {n}: unique per request")
    args = parser.parse_args(argv)
    target = Target.from_url(
        args.url, dict(args.header), method=args.method.upper(), body=args.body.encode()
    )
    result = run_load(
        target,
        connections=args.connections,
        max_requests=args.requests,
        duration=args.duration,
        processes=args.processes,
    )
    cpu = result.client_cpu_s / result.elapsed_s
    print(result.summary())
    print(
        f"client CPU {cpu:.0%} of one core over {result.processes} process(es), pid {os.getpid()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())


def check_load_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse rounds that would load a server longer than MAX_DURATION seconds in all."""
    total = args.warmup_seconds + args.rounds * args.round_seconds
    if args.rounds < 1 or args.round_seconds <= 0 or args.warmup_seconds <= 0:
        parser.error("need at least one round and positive durations")
    if total > MAX_DURATION:
        parser.error(f"warm-up + rounds x seconds = {total:g} s of load; at most {MAX_DURATION:g}")
