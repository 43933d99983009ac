"""The scale-out invariants, each a check against a running loopback cluster that returns an
:class:`Outcome` (tests/cluster asserts `ok`; benchmarks/scaleout writes them to
docs/scale-out.md). docs/scale-out.md says what each one proves."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from quantdesk.cluster.state import ClusterState
from tests.support.cluster import API, Trader, admin_get, new_trader, new_user, place_order

WS_TIMEOUT = 15.0


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str


async def duplicate_orders(state: ClusterState, posts: int = 50) -> Outcome:
    """`posts` POSTs with one Idempotency-Key, spread over every replica at once: one order."""
    replicas = state.replica_urls()
    async with httpx.AsyncClient(timeout=30) as client:
        trader = await new_trader(client, state.url)
        key = f"dup-{secrets.token_hex(8)}"
        answers = await asyncio.gather(
            *(place_order(client, replicas[i % len(replicas)], trader, key) for i in range(posts))
        )
        orders = await client.get(
            f"{state.url}{API}/accounts/{trader.account_id}/orders", headers=trader.headers
        )
        orders.raise_for_status()
    statuses = sorted({answer.status_code for answer in answers})
    ids = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    replayed = sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers)
    stored = orders.json()["data"]
    ok = statuses == [201] and len(ids) == 1 and len(stored) == 1 and replayed == posts - 1
    detail = (
        f"{posts} POSTs over {len(replicas)} replicas: statuses {statuses}, "
        f"{len(ids)} order id(s), "
        f"{replayed} replayed, {len(stored)} order(s) stored"
    )
    return Outcome("duplicate order POSTs make one order", ok, detail)


async def rate_limit_exact(state: ClusterState, limit: int = 10) -> Outcome:
    """`limit` + 1 POST /api-keys ("10 per hour" per user) spread over the replicas at once:
    exactly `limit` allowed, one 429."""
    replicas = state.replica_urls()
    async with httpx.AsyncClient(timeout=30) as client:
        _, token = await new_user(client, state.url)
        headers = {"Authorization": f"Bearer {token}"}
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{replicas[i % len(replicas)]}{API}/api-keys",
                    json={"name": f"k{i}"},
                    headers=headers,
                )
                for i in range(limit + 1)
            )
        )
    allowed = sum(answer.status_code == 201 for answer in answers)
    refused = sum(answer.status_code == 429 for answer in answers)
    ok = allowed == limit and refused == 1
    detail = f"{limit + 1} requests over {len(replicas)} replicas: {allowed} allowed, {refused} 429"
    return Outcome("rate limit exact across replicas", ok, detail)


def ws_url(http_url: str, path: str = "/ws/trading") -> str:
    return http_url.replace("http://", "ws://", 1) + path


def _frames(message: str | bytes) -> list[dict[str, Any]]:
    decoded = json.loads(message)
    return decoded if isinstance(decoded, list) else [decoded]


async def _collect(
    ws: ClientConnection, channel: str, want: set[str], seqs: list[int], seen: set[str]
) -> None:
    """Read frames until every order id in `want` was seen on `channel` (seqs recorded)."""
    while not want <= seen:
        for frame in _frames(await ws.recv()):
            if frame.get("type") == "ping":
                await ws.send(json.dumps({"action": "pong"}))
            if frame.get("channel") != channel:
                continue
            seqs.append(int(frame["seq"]))
            seen.add(str(frame["data"].get("order_id") or frame["data"].get("id")))


async def ws_fan_out(state: ClusterState, orders: int = 10) -> Outcome:
    """A client on every replica subscribes to a trader's orders; orders placed through the
    first replica reach every client, in order, with consecutive seqs (no gap)."""
    replicas = state.replica_urls()
    async with httpx.AsyncClient(timeout=30) as client, contextlib.AsyncExitStack() as stack:
        trader = await new_trader(client, state.url)
        sockets = []
        for replica in replicas:
            ws = await stack.enter_async_context(
                connect(ws_url(replica), additional_headers=trader.headers, ping_interval=None)
            )
            await _wait_ack(ws)
            sockets.append(ws)
        placed = set()
        for n in range(orders):
            answer = await place_order(
                client, replicas[0], trader, f"ws-{n}-{secrets.token_hex(4)}"
            )
            answer.raise_for_status()
            placed.add(str(answer.json()["id"]))
        channel = f"orders:{trader.account_id}"
        results = []
        for index, ws in enumerate(sockets):
            seqs: list[int] = []
            seen: set[str] = set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_collect(ws, channel, placed, seqs, seen), WS_TIMEOUT)
            consecutive = seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else False
            results.append((replicas[index], placed <= seen, consecutive, len(seqs)))
    ok = all(got and consecutive for _, got, consecutive, _ in results)
    detail = "; ".join(
        f"{url}: {'all' if got else 'NOT all'} {orders} orders, {count} frames, "
        f"seqs {'consecutive' if consecutive else 'with GAPS'}"
        for url, got, consecutive, count in results
    )
    return Outcome("events published on one replica reach every replica's clients", ok, detail)


async def _wait_ack(ws: ClientConnection) -> None:
    """The pre-subscribed alias acks its subscriptions before any event frame."""
    async with asyncio.timeout(WS_TIMEOUT):
        while True:
            for frame in _frames(await ws.recv()):
                if frame.get("type") == "ack" and "orders" in frame.get("channels", []):
                    return
                if frame.get("type") == "error":
                    raise AssertionError(f"WebSocket error frame: {frame}")


async def ledger_verifies(state: ClusterState) -> Outcome:
    async with httpx.AsyncClient(timeout=120) as client:
        report = await admin_get(client, state, "/admin/ledger/verify")
    detail = (
        f"{report['entries']} entries, {report['legs']} legs, {report['accounts']} accounts, "
        f"{report['violation_count']} violations"
    )
    return Outcome("the ledger verifies", bool(report["ok"]), detail)


async def audit_chain_verifies(state: ClusterState) -> Outcome:
    async with httpx.AsyncClient(timeout=120) as client:
        chain = (await admin_get(client, state, "/admin/audit/verify"))["data"]
    detail = f"{chain['rows']} rows" + (
        "" if chain["ok"] else f", broken at {chain['first_broken_id']}: {chain['reason']}"
    )
    return Outcome("the audit chain verifies", bool(chain["ok"]), detail)


async def acknowledged_orders_kept(
    state: ClusterState, acknowledged: Iterable[tuple[Trader, str]]
) -> Outcome:
    """Every order a replica answered 201 for can be read back (through haproxy)."""
    pairs = list(acknowledged)
    missing = []
    async with httpx.AsyncClient(timeout=30) as client:
        for trader, order_id in pairs:
            answer = await client.get(
                f"{state.url}{API}/accounts/{trader.account_id}/orders/{order_id}",
                headers=trader.headers,
            )
            if answer.status_code != 200:
                missing.append(order_id)
    detail = f"{len(pairs)} acknowledged orders, {len(missing)} missing"
    return Outcome("no acknowledged write lost", not missing and bool(pairs), detail)
