"""WebSocket stream helpers: the test app served by a real uvicorn on a free port (same event
loop, lifespan already run by the `app` fixture) and a `websockets` client that reads frames."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from quantdesk.infra.events import MarketEvent
from quantdesk.portfolio.events import OrderUpdate

WS = "/api/v1/ws"


def quote(symbol: str = "GOOG", price: float = 100.0, ts: int = 1) -> MarketEvent:
    return MarketEvent("quote", symbol, None, ts, price, price, price, price, 0.0)


def order(account_id: str, event: str = "accepted") -> OrderUpdate:
    return OrderUpdate(account_id, "o1", event, "open", "GOOG", "buy", "1", "0", None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`ws://127.0.0.1:<port>` while a real uvicorn serves `app` (its lifespan not re-run)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def stream_client(url: str, headers: dict[str, str] | None = None) -> Any:
    """`async with stream_client(url) as ws` (websockets' connect, no client-side pings)."""
    return connect(url, additional_headers=headers, ping_interval=None, max_size=2**24)


class Reader:
    """Frames of one connection, arrays flattened, in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.pending: list[dict[str, Any]] = []
        self.messages = 0
        self.arrays = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(message).decode())

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        while not self.pending:
            raw = await asyncio.wait_for(self.ws.recv(), wait)
            data = orjson.loads(raw)
            self.messages += 1
            if isinstance(data, list):
                self.arrays += 1
                self.pending.extend(data)
            else:
                self.pending.append(data)
        return self.pending.pop(0)

    async def next_of(self, type_: str, wait: float = 5.0) -> dict[str, Any]:
        """The next frame of `type_` (skipping server pings and others)."""
        while True:
            frame = await self.next(wait)
            if frame.get("type") == type_:
                return frame

    async def closed_with(self, wait: float = 5.0) -> int | None:
        """Read until the server closes; the close code."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), wait)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else None

    async def nothing_for(self, seconds: float) -> bool:
        """True when no event frame arrives within `seconds` (pings ignored)."""
        try:
            while True:
                frame = await self.next(seconds)
                if frame.get("type") not in ("ping",):
                    self.pending.insert(0, frame)
                    return False
        except TimeoutError:
            return True


# Protocol tests that touch no table run on SQLite only; the ones that read users, keys and
# accounts run on both databases.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@contextmanager
def uvicorn_replicas(settings: dict[str, str], log_dir: Path, count: int) -> Iterator[list[int]]:
    """`count` `uvicorn quantdesk.main:app` subprocesses configured by `settings` (QUANTDESK_*
    variables), started together; their ports once each /health/ready answers 200. Stopped
    (SIGTERM, then SIGKILL) on the way out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env |= {"QUANTDESK_WARM_KERNELS_AT_STARTUP": "false", **settings}
    started: list[tuple[int, subprocess.Popen[bytes], Path]] = []
    try:
        for index in range(count):
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", "quantdesk.main:app"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            log_path = log_dir / f"replica{index}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [*command, "--no-access-log"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            started.append((port, process, log_path))
        for port, process, log_path in started:
            _wait_ready(port, process, log_path)
        yield [port for port, _, _ in started]
    finally:
        for _, process, _ in started:
            process.terminate()
        for _, process, _ in started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _wait_ready(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"replica exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"replica not ready: {log_path.read_text()[-2000:]}")
        time.sleep(0.2)
