"""A WebSocket load client for benchmarks/bench_realtime.py, run as its own process:
`python -m benchmarks._ws_clients URL CLIENTS EXPECT` opens CLIENTS connections, subscribes
each to BENCH quotes, prints `ready`, then counts event frames (arrays counted per element)
until every connection has EXPECT or the timeout passes, and prints one JSON line: frames,
messages, the time from the first to the last frame, the latency percentiles (receive time
minus the event's publish time, microseconds in `data.ts`) and the per-connection shortfall.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time

import orjson
from websockets.asyncio.client import ClientConnection, connect

SUBSCRIBE = '{"action":"subscribe","channel":"quotes","symbols":["BENCH"]}'
_TS = re.compile(rb'"ts":(\d+)')
SAMPLE_EVERY = 7  # latency sampled on every 7th message (parsing them all costs the client)


async def _reader(
    ws: ClientConnection, expect: int, counts: list[int], slot: int, state: dict[str, float],
    latencies: list[float], done: asyncio.Event, remaining: list[int],
) -> None:  # fmt: skip
    received = 0
    messages = 0
    async for raw in ws:
        data = raw if isinstance(raw, bytes) else raw.encode()
        frames = data.count(b'"seq":')
        if not frames:
            continue
        now = time.time_ns() // 1000
        if "first" not in state:
            state["first"] = time.perf_counter()
        received += frames
        messages += 1
        if messages % SAMPLE_EVERY == 1:
            for match in _TS.finditer(data):
                latencies.append((now - int(match.group(1))) / 1000.0)
        counts[slot] = received
        state["messages"] = state.get("messages", 0) + 1
        if received >= expect:
            state["last"] = time.perf_counter()
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()
            return


async def run(url: str, clients: int, expect: int, wait: float) -> dict[str, object]:
    connections = []
    for _ in range(clients):
        ws = await connect(url, ping_interval=None, max_size=2**26, open_timeout=60)
        await ws.send(SUBSCRIBE)
        await ws.recv()  # the ack
        connections.append(ws)
    counts = [0] * clients
    state: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()
    remaining = [clients]
    readers = [
        asyncio.create_task(_reader(ws, expect, counts, i, state, latencies, done, remaining))
        for i, ws in enumerate(connections)
    ]
    print("ready", flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), wait)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    for ws in connections:
        await ws.close()
    latencies.sort()

    def pct(q: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else None

    return {
        "frames": sum(counts),
        "expected": clients * expect,
        "messages": int(state.get("messages", 0)),
        "seconds": state.get("last", time.perf_counter()) - state.get("first", time.perf_counter()),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] if latencies else None,
        "short_connections": sum(1 for c in counts if c < expect),
    }


def main() -> None:
    url, clients, expect = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    result = asyncio.run(run(url, clients, expect, timeout))
    print(orjson.dumps(result).decode(), flush=True)


if __name__ == "__main__":
    main()
