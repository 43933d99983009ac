"""The load generator process of `benchmarks.scaleout.cpu_shape`: a closed loop of keep-alive
HTTP/1.1 connections (benchmarks/loadgen.py's raw reader, not httpx, so the client takes as
little of the shared cores as it can) sending GET requests that cycle through a list of paths.

The parent starts it with `start_generator` and drives it over a pipe: the child connects and
sends `warmup` requests, answers "ready", waits for "go", sends `requests` requests and answers
a `LoadOutcome`. The parent reads the servers' CPU between "ready"/"go" and the outcome, so
neither the child's start-up nor its warm-up is inside the measured window.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from benchmarks.loadgen import READ_LIMIT, LoadError, Target, percentile, read_response

READY_TIMEOUT = 60.0


@dataclass
class LoadOutcome:
    """What one measured window of the generator saw (plain data: it crosses the pipe)."""

    requests: int
    elapsed_s: float
    latencies_ns: list[int]
    statuses: dict[int, int]
    cache: dict[str, int]  # X-Cache header values: hit, stale, miss
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rps(self) -> float:
        return self.requests / max(self.elapsed_s, 1e-9)

    def percentile_ms(self, fraction: float) -> float:
        return percentile(sorted(self.latencies_ns), fraction) / 1e6


Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _connect(host: str, port: int) -> Streams:
    return await asyncio.open_connection(host, port, limit=READ_LIMIT)


async def _load(
    host: str, port: int, streams: list[Streams], requests: list[bytes], total: int, rate: float
) -> LoadOutcome:
    """Until `total` requests were sent, every connection sends the next request (request i
    is requests[i % len(requests)]) as soon as its answer is read (rate 0: a closed loop) or,
    with a rate, not before request i's time in a fixed schedule of `rate` per second; then
    latency runs from that scheduled time (a late start counts as waiting)."""
    taken = 0
    latencies: list[int] = []
    statuses: Counter[int] = Counter()
    cache: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    clock = time.perf_counter_ns

    async def connection(index: int) -> None:
        nonlocal taken
        reader, writer = streams[index]
        while taken < total:
            request = requests[taken % len(requests)]
            if rate:
                due = begin + int(taken * 1e9 / rate)
                taken += 1
                if (ahead := due - clock()) > 0:
                    await asyncio.sleep(ahead / 1e9)
                started = due
            else:
                taken += 1
                started = clock()
            try:
                writer.write(request)
                response = await read_response(reader)
            except (OSError, LoadError, asyncio.IncompleteReadError) as exc:
                errors[type(exc).__name__] += 1
                writer.close()
                reader, writer = streams[index] = await _connect(host, port)
                continue
            latencies.append(clock() - started)
            statuses[response.status] += 1
            cache[response.headers.get("x-cache", "none")] += 1
            if response.close:
                writer.close()
                reader, writer = streams[index] = await _connect(host, port)

    begin = clock()
    await asyncio.gather(*(connection(index) for index in range(len(streams))))
    elapsed = (clock() - begin) / 1e9
    return LoadOutcome(
        len(latencies), elapsed, latencies, dict(statuses), dict(cache), dict(errors)
    )


async def _generate(
    pipe: Connection,
    url: str,
    paths: list[str],
    connections: int,
    warmup: int,
    requests: int,
    rate: float,
) -> None:
    target = Target.from_url(url)
    encoded = [Target(target.host, target.port, path).request_bytes() for path in paths]
    streams = [await _connect(target.host, target.port) for _ in range(connections)]
    warm = await _load(target.host, target.port, streams, encoded, warmup, 0)
    pipe.send(("ready", warm))
    if pipe.recv() != "go":  # blocks the loop on purpose: nothing else runs meanwhile
        return
    outcome = await _load(target.host, target.port, streams, encoded, requests, rate)
    pipe.send(("done", outcome))
    for _, writer in streams:
        writer.close()


def _child(pipe: Connection, *args: Any) -> None:
    try:
        import uvloop
    except ImportError:  # plain asyncio works too, with a little more client CPU
        asyncio.run(_generate(pipe, *args))
    else:
        uvloop.run(_generate(pipe, *args))


class Generator:
    """One generator process: `ready()` after its warm-up, then `run()` for the window."""

    def __init__(
        self,
        url: str,
        paths: list[str],
        connections: int,
        warmup: int,
        requests: int,
        rate: float = 0.0,
    ) -> None:
        # spawn: a fresh interpreter, whatever threads the caller runs (its start-up is before
        # "ready", outside the measured window).
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(
            target=_child,
            args=(child, url, paths, connections, warmup, requests, rate),
            daemon=True,
        )
        self._process.start()
        child.close()

    def _receive(self, expected: str, timeout: float) -> LoadOutcome:
        if not self._pipe.poll(timeout):
            raise TimeoutError(f"load generator: no {expected!r} within {timeout:.0f} s")
        kind, outcome = self._pipe.recv()
        if kind != expected:
            raise RuntimeError(f"load generator answered {kind!r}, expected {expected!r}")
        assert isinstance(outcome, LoadOutcome)
        return outcome

    def ready(self) -> LoadOutcome:
        """Wait for the warm-up to end; its outcome."""
        return self._receive("ready", READY_TIMEOUT)

    def run(self, timeout: float) -> LoadOutcome:
        """Start the measured requests and wait for their outcome."""
        self._pipe.send("go")
        outcome = self._receive("done", timeout)
        self._process.join(10)
        return outcome

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._pipe.close()
