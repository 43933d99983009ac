"""A short background load on the loopback cluster while a fault happens: a few clients read
quotes, place orders with fresh Idempotency-Keys and sign in, all through haproxy, and a
poller asks every replica's /health/ready directly. Every answer is recorded with its time,
so a fault can be judged per phase and per second (tests/support/cluster_outages.py)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from quantdesk.cluster.state import ClusterState
from tests.support.cluster import API, Trader, new_trader, place_order

READ, ORDER, SIGN_IN, READY = "read", "order", "sign-in", "ready"
OK = {READ: 200, ORDER: 201, SIGN_IN: 200, READY: 200}
TRANSPORT_ERROR = 0  # no HTTP answer at all (refused, reset, timed out)
REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic() when the answer arrived
    kind: str
    status: int
    where: str = ""  # READY: the replica asked
    state: str = ""  # READY: the body's status (ok, degraded, down)


@dataclass
class LoadRecord:
    samples: list[Sample] = field(default_factory=list)
    acknowledged: list[tuple[Trader, str]] = field(default_factory=list)

    def between(self, start: float, end: float, *kinds: str) -> list[Sample]:
        return [s for s in self.samples if start <= s.at < end and (not kinds or s.kind in kinds)]

    def statuses(self, start: float, end: float, *kinds: str) -> Counter[int]:
        return Counter(s.status for s in self.between(start, end, *kinds))

    def per_second(self, origin: float, end: float) -> list[dict[str, Counter[int]]]:
        """Status counts per kind for each whole second from `origin` to `end`."""
        seconds: list[dict[str, Counter[int]]] = []
        for n in range(max(0, int(end - origin))):
            bucket: dict[str, Counter[int]] = {}
            for sample in self.between(origin + n, origin + n + 1):
                bucket.setdefault(sample.kind, Counter())[sample.status] += 1
            seconds.append(bucket)
        return seconds

    def first_ok_second(self, origin: float, end: float) -> int | None:
        """Seconds from `origin` to the first whole second from which every later answer of
        the load (reads, orders, sign-ins; READY excluded) is the success status, else None."""
        seconds = self.per_second(origin, end)
        found = None
        for n in range(len(seconds) - 1, -1, -1):
            load = {kind: counts for kind, counts in seconds[n].items() if kind != READY}
            if not load or any(set(c) != {OK[kind]} for kind, c in load.items()):
                break
            found = n
        return found


@dataclass(frozen=True)
class LoadUsers:
    traders: list[Trader]
    email: str
    password: str


async def prepare_users(state: ClusterState, traders: int = 2) -> LoadUsers:
    """Funded traders for the order clients and one account for the sign-in client."""
    async with httpx.AsyncClient(timeout=60) as client:
        made = [await new_trader(client, state.url) for _ in range(traders)]
        email = f"signin-{secrets.token_hex(6)}@example.com"
        password = "Pw-" + secrets.token_urlsafe(18)
        answer = await client.post(
            f"{state.url}{API}/auth/register", json={"email": email, "password": password}
        )
        answer.raise_for_status()
    return LoadUsers(made, email, password)


async def _status(call: Awaitable[httpx.Response]) -> tuple[int, httpx.Response | None]:
    try:
        response = await call
    except httpx.HTTPError:
        return TRANSPORT_ERROR, None
    return response.status_code, response


async def _loop(pause: float, step: Callable[[], Awaitable[None]]) -> None:
    while True:
        await step()
        await asyncio.sleep(pause)


@contextlib.asynccontextmanager
async def background_load(state: ClusterState, users: LoadUsers) -> AsyncIterator[LoadRecord]:
    """Two quote readers, one order client per trader, one sign-in client, one readiness
    poller per replica, until the block ends."""
    record = LoadRecord()
    client = httpx.AsyncClient(timeout=REQUEST_TIMEOUT)

    def note(kind: str, status: int, where: str = "", state: str = "") -> None:
        record.samples.append(Sample(time.monotonic(), kind, status, where, state))

    async def read() -> None:
        note(READ, (await _status(client.get(f"{state.url}{API}/quotes/GOOG")))[0])

    def orders(trader: Trader) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            call = place_order(client, state.url, trader, secrets.token_hex(8))
            status, response = await _status(call)
            note(ORDER, status)
            if status == 201 and response is not None:
                record.acknowledged.append((trader, str(response.json()["id"])))

        return step

    async def sign_in() -> None:
        body = {"email": users.email, "password": users.password}
        note(SIGN_IN, (await _status(client.post(f"{state.url}{API}/auth/login", json=body)))[0])

    def ready(url: str) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            status, response = await _status(client.get(f"{url}/health/ready", timeout=3))
            state = str(response.json().get("status", "")) if response is not None else ""
            note(READY, status, url, state)

        return step

    steps: list[tuple[float, Callable[[], Awaitable[None]]]] = [(0.05, read), (0.05, read)]
    steps.append((0.4, sign_in))
    steps += [(0.1, orders(trader)) for trader in users.traders]
    steps += [(0.25, ready(url)) for url in state.replica_urls()]
    tasks = [asyncio.create_task(_loop(pause, step)) for pause, step in steps]
    try:
        yield record
    finally:
        for task in tasks:
            task.cancel()
        ended = await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
        broken = [e for e in ended if isinstance(e, Exception)]
        if broken:  # a client that died mid-load would leave its kind silently unsampled
            raise broken[0]
