"""Faults on the loopback cluster: one replica killed (SIGKILL) while WebSocket clients stream
through haproxy; the clients it dropped reconnect through haproxy and resume with `since_seq`."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from quantdesk.cluster.state import ClusterState, pid_files
from tests.support.cluster import Trader, new_trader, place_order
from tests.support.cluster_invariants import Outcome, ws_url

RESUME_BOUND = 3.0


def kill_replica(state: ClusterState, name: str) -> None:
    """SIGKILL the replica's process group, as a crash would (no graceful close)."""
    for path in pid_files(Path(state.dir)):
        if path.stem.split("-", 1)[1] == name:
            os.killpg(int(path.read_text().split()[0]), signal.SIGKILL)
            return
    raise LookupError(f"no pid file for {name}")


def _frames(message: str | bytes) -> list[dict[str, Any]]:
    decoded = json.loads(message)
    return decoded if isinstance(decoded, list) else [decoded]


@dataclass
class Subscriber:
    """A client of `/api/v1/ws` through haproxy, subscribed to one trader's orders."""

    state: ClusterState
    trader: Trader
    seqs: list[int] = field(default_factory=list)
    epoch: str | None = None
    dropped_at: float | None = None
    resumed_after: float | None = None  # seconds from the drop to the resumed ack

    @property
    def channel(self) -> str:
        return f"orders:{self.trader.account_id}"

    async def _open(self, since: int | None) -> ClientConnection:
        ws = await connect(
            ws_url(self.state.url, "/api/v1/ws"),
            additional_headers=self.trader.headers,
            ping_interval=None,
            open_timeout=2,
        )
        command: dict[str, Any] = {"action": "subscribe", "channel": "orders"}
        if since is not None:
            command |= {"since_seq": since, "epoch": self.epoch}
        await ws.send(json.dumps(command))
        while True:
            for frame in _frames(await ws.recv()):
                if frame.get("type") == "ack":
                    self.epoch = frame.get("epoch")
                    return ws
                if frame.get("type") == "error":
                    raise AssertionError(f"subscribe refused: {frame}")

    async def run(self, ready: asyncio.Event) -> None:
        ws = await self._open(None)
        ready.set()
        while True:
            try:
                for frame in _frames(await ws.recv()):
                    if frame.get("channel") == self.channel:
                        self.seqs.append(int(frame["seq"]))
            except ConnectionClosed:
                self.dropped_at = time.monotonic()
                ws = await self._reconnect()

    async def _reconnect(self) -> ClientConnection:
        assert self.dropped_at is not None
        while True:  # haproxy may still pick the dead replica until its checks fail
            try:
                ws = await self._open(self.seqs[-1] if self.seqs else 0)
            except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, TimeoutError):
                await asyncio.sleep(0.05)
                continue
            self.resumed_after = time.monotonic() - self.dropped_at
            return ws


async def replica_killed(state: ClusterState, victim: str = "api1", orders: int = 5) -> Outcome:
    """One client per replica through haproxy (roundrobin, opened one after another: one on
    each replica); orders placed through a surviving replica before and right after `victim`
    is killed; the dropped client must be back within RESUME_BOUND s and every client must
    hold every order's frame, seqs unbroken."""
    survivor = next(s for s in state.services if s.kind == "api" and s.name != victim)
    base = f"http://127.0.0.1:{survivor.port}"
    async with httpx.AsyncClient(timeout=30) as client:
        trader = await new_trader(client, state.url)
        subscribers = [Subscriber(state, trader) for _ in state.replica_urls()]
        tasks = []
        for subscriber in subscribers:
            ready = asyncio.Event()
            tasks.append(asyncio.create_task(subscriber.run(ready)))
            await asyncio.wait_for(ready.wait(), 10)
        for _ in range(orders):
            (await place_order(client, base, trader, secrets.token_hex(8))).raise_for_status()
        kill_replica(state, victim)
        for _ in range(orders):
            (await place_order(client, base, trader, secrets.token_hex(8))).raise_for_status()
            await asyncio.sleep(0.2)
        deadline = time.monotonic() + RESUME_BOUND + 10

        def behind() -> bool:
            return any(len(s.seqs) < 2 * orders for s in subscribers)

        while time.monotonic() < deadline and behind():  # noqa: ASYNC110 - several clients
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
    dropped = [s for s in subscribers if s.dropped_at is not None]
    unbroken = all(s.seqs == list(range(1, 2 * orders + 1)) for s in subscribers)
    fast = all(s.resumed_after is not None and s.resumed_after <= RESUME_BOUND for s in dropped)
    detail = (
        f"{len(dropped)} of {len(subscribers)} clients dropped, back after "
        + ", ".join(f"{s.resumed_after:.2f} s" for s in dropped if s.resumed_after is not None)
        + f"; seqs {[s.seqs for s in subscribers]}"
    )
    name = "a replica killed: its WebSocket clients resume through haproxy"
    return Outcome(name, bool(dropped) and unbroken and fast, detail)
