"""What runs beside locust during a scale-out run: a watcher trader whose orders (placed
through haproxy a few times a second) are streamed to a WebSocket client on every replica and
delivered to a local webhook receiver; afterwards, the gap and delivery checks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from dataclasses import dataclass, field

import httpx
from tests.support.cluster import Trader, new_trader, place_order
from tests.support.cluster_invariants import Outcome, ws_url
from tests.support.cluster_webhooks import WebhookReceiver, subscribe, webhooks_delivered
from websockets.asyncio.client import ClientConnection, connect

from quantdesk.cluster.state import ClusterState

ORDER_INTERVAL = 0.25


@dataclass
class Stream:
    """One WebSocket subscriber: the seqs and order ids it saw on the watcher's channel."""

    url: str
    seqs: list[int] = field(default_factory=list)
    orders: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


async def _read(ws: ClientConnection, stream: Stream, channel: str) -> None:
    with contextlib.suppress(Exception):
        async for message in ws:
            decoded = json.loads(message)
            for frame in decoded if isinstance(decoded, list) else [decoded]:
                if frame.get("type") == "ping":
                    await ws.send(json.dumps({"action": "pong"}))
                if frame.get("channel") == channel:
                    stream.seqs.append(int(frame["seq"]))
                    stream.orders.add(str(frame["data"].get("order_id") or frame["data"]["id"]))
                    stream.arrived.set()


class SideTraffic:
    """Watcher orders, their WebSocket subscribers (one per replica) and webhook receiver."""

    def __init__(self, state: ClusterState) -> None:
        self.state = state
        self.placed: list[str] = []
        self.streams = [Stream(url) for url in state.replica_urls()]
        self.trader: Trader | None = None
        self._stack = contextlib.AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self.receiver = WebhookReceiver(state.webhook_receiver_port)

    async def start(self) -> None:
        client = await self._stack.enter_async_context(httpx.AsyncClient(timeout=30))
        self.client = client
        await self._stack.enter_async_context(self.receiver)
        self.trader = await new_trader(client, self.state.url)
        await subscribe(client, self.state.url, self.trader, self.receiver.url)
        channel = f"orders:{self.trader.account_id}"
        for stream in self.streams:
            ws = await self._stack.enter_async_context(
                connect(
                    ws_url(stream.url), additional_headers=self.trader.headers, ping_interval=None
                )
            )
            self._tasks.append(asyncio.create_task(_read(ws, stream, channel)))
        self._tasks.append(asyncio.create_task(self._feed()))

    async def _feed(self) -> None:
        assert self.trader is not None
        while True:
            answer = await place_order(
                self.client, self.state.url, self.trader, secrets.token_hex(8)
            )
            if answer.status_code == 201:
                self.placed.append(str(answer.json()["id"]))
            await asyncio.sleep(ORDER_INTERVAL)

    async def finish(self, within: float = 30.0) -> list[Outcome]:
        self._tasks.pop().cancel()  # the feeder; the readers keep reading
        wanted = set(self.placed)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                for stream in self.streams:
                    while not wanted <= stream.orders:
                        stream.arrived.clear()
                        await stream.arrived.wait()
        delivered = await webhooks_delivered(self.receiver, wanted, within)
        for task in self._tasks:
            task.cancel()
        await self._stack.aclose()
        return [self._ws_outcome(wanted), delivered]

    def _ws_outcome(self, wanted: set[str]) -> Outcome:
        rows, ok = [], bool(wanted)
        for stream in self.streams:
            seqs = stream.seqs
            gaps = sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1)
            complete = wanted <= stream.orders
            ok = ok and complete and gaps == 0
            rows.append(
                f"{stream.url}: {len(stream.orders & wanted)}/{len(wanted)} orders, "
                f"{len(seqs)} frames, {gaps} seq gaps"
            )
        name = "events reach WebSocket clients on every replica, no seq gaps"
        return Outcome(name, ok, "; ".join(rows))
