"""A fake Polygon.io for benchmarks: snapshot quotes after a fixed delay, counting requests.

    python -m benchmarks._fake_polygon --delay-ms 20        # prints "READY <port>"

`GET /v2/snapshot/locale/us/markets/stocks/tickers/{T}` answers Polygon's snapshot format
(the shape of tests/marketdata/providers/payloads/polygon-snapshot-aapl.json, stamped now)
after `--delay-ms`, and counts the request; `GET /_count` answers `{"count": n}` at once
without counting itself. HTTP/1.1 keep-alive on raw asyncio streams (uvloop when installed):
the delay is an `asyncio.sleep`, so the fake spends no CPU waiting and answers any number of
requests in parallel; it runs in its own process so it never competes with the load
generator's event loop. `fake_provider(delay_ms, log_path)` runs one and reads its counter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks._processes import stop_process
from benchmarks.loadgen import Target, fetch_sync

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT_PREFIX = "/v2/snapshot/locale/us/markets/stocks/tickers/"
COUNT_PATH = "/_count"


class FakePolygon:
    def __init__(self, delay_seconds: float) -> None:
        self.delay = delay_seconds
        self.count = 0

    def snapshot(self, ticker: str) -> bytes:
        now_ns = time.time_ns()
        price = 181.18
        return json.dumps(
            {
                "request_id": f"bench{self.count}",
                "status": "OK",
                "ticker": {
                    "day": {"c": price, "h": 182.76, "l": 180.17, "o": 181.99, "v": 62379661},
                    "lastQuote": {"P": 181.19, "S": 3, "p": 181.17, "s": 2, "t": now_ns},
                    "lastTrade": {"c": [14, 41], "p": price, "s": 100, "t": now_ns, "x": 4},
                    "prevDay": {"c": 181.91, "h": 183.09, "l": 180.88, "o": 182.15, "v": 7198357},
                    "ticker": ticker,
                    "todaysChange": -0.73,
                    "todaysChangePerc": -0.401,
                    "updated": now_ns,
                },
            }
        ).encode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                parts = head.split(b"\r\n", 1)[0].split(b" ")
                path = parts[1].decode("latin-1").split("?", 1)[0] if len(parts) > 1 else "/"
                if path == COUNT_PATH:
                    status, body = 200, json.dumps({"count": self.count}).encode()
                elif path.startswith(SNAPSHOT_PREFIX):
                    self.count += 1
                    await asyncio.sleep(self.delay)
                    status, body = 200, self.snapshot(path[len(SNAPSHOT_PREFIX) :].upper())
                else:
                    status, body = 404, b'{"status": "NOT_FOUND"}'
                reason = "OK" if status == 200 else "Not Found"
                response_head = (
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                )
                writer.write(response_head.encode() + body)
                await writer.drain()
        except ConnectionError:
            return
        finally:
            writer.close()


# --------------------------------------------------------------------------- the controller


@dataclass
class FakeProvider:
    delay_ms: float
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "benchmarks._fake_polygon", "--delay-ms"]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, str(self.delay_ms)], cwd=ROOT, stdout=subprocess.PIPE, stderr=log
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "READY":
            raise RuntimeError(f"fake provider did not start: {self.log_path.read_text()}")
        self.port = int(line[1])

    def count(self) -> int:
        answer = fetch_sync(Target("127.0.0.1", self.port, "/_count"))
        return int(json.loads(answer.body)["count"])

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def fake_provider(delay_ms: float, log_path: Path) -> Iterator[FakeProvider]:
    provider = FakeProvider(delay_ms, log_path)
    try:
        provider.start()
        yield provider
    finally:
        provider.stop()


async def serve(delay_seconds: float, port: int) -> None:
    fake = FakePolygon(delay_seconds)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", port, backlog=4096)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fake Polygon snapshot server")
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):  # SIGINT is how the benchmark stops it
        runner(serve(args.delay_ms / 1000, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
