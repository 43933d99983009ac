"""N requests at once on N connections opened beforehand (bench_cache's single-flight run).

All connections are open before the first byte of any request; the requests are then written
back to back in one pass of the event loop (no await in between), so they reach the server
together, and every answer is read in full.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from benchmarks.loadgen import READ_LIMIT, Target, read_response


@dataclass(frozen=True)
class Burst:
    requests: int
    statuses: dict[int, int]
    header: dict[str, int]  # the answers' values of the header asked for
    connect_s: float  # opening every connection (before any request)
    send_s: float  # first request written to last request written
    answered_s: float  # first request written to last answer read


async def _burst(target: Target, count: int, header: str) -> Burst:
    started = time.perf_counter()
    streams = await asyncio.gather(
        *(asyncio.open_connection(target.host, target.port, limit=READ_LIMIT) for _ in range(count))
    )
    connected = time.perf_counter()
    request = target.request_bytes()
    for _, writer in streams:
        writer.write(request)
    sent = time.perf_counter()
    try:
        answers = await asyncio.gather(*(read_response(reader) for reader, _ in streams))
    finally:
        for _, writer in streams:
            writer.close()
    done = time.perf_counter()
    return Burst(
        requests=count,
        statuses=dict(Counter(answer.status for answer in answers)),
        header=dict(Counter(answer.headers.get(header, "none") for answer in answers)),
        connect_s=connected - started,
        send_s=sent - connected,
        answered_s=done - connected,
    )


def burst(target: Target, count: int, *, header: str, timeout: float = 60.0) -> Burst:
    """`count` concurrent requests to `target`; tallies statuses and one response header."""

    async def bounded() -> Burst:
        async with asyncio.timeout(timeout):
            return await _burst(target, count, header.lower())

    return asyncio.run(bounded())
