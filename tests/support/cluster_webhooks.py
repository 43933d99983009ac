"""A local webhook receiver for the loopback cluster (on the port `cluster up` let through the
SSRF guard) and the "every webhook delivered at least once" invariant."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from typing import Any

import httpx
from aiohttp import web

from quantdesk.cluster.state import HOST
from tests.support.cluster import API, Trader
from tests.support.cluster_invariants import Outcome

DELIVERY_TIMEOUT = 60.0


class WebhookReceiver:
    """Answers 204 to every POST and remembers each order id an `order_update` named."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.orders: set[str] = set()
        self.deliveries = 0
        self._runner: web.AppRunner | None = None
        self.arrived = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = json.loads(await request.read())
        self.deliveries += 1
        data = body.get("data") or {}
        order_id = data.get("order_id") or data.get("id")
        if order_id is not None:
            self.orders.add(str(order_id))
        self.arrived.set()
        return web.Response(status=204)

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, HOST, self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def subscribe(client: httpx.AsyncClient, base: str, trader: Trader, url: str) -> str:
    response = await client.post(
        f"{base}{API}/webhooks",
        json={"url": url, "events": ["order_update"]},
        headers=trader.headers,
    )
    response.raise_for_status()
    webhook_id: str = response.json()["id"]
    return webhook_id


async def webhooks_delivered(
    receiver: WebhookReceiver, order_ids: Iterable[str], within: float = DELIVERY_TIMEOUT
) -> Outcome:
    """Every order in `order_ids` (placed by the webhook's owner) reached the receiver."""
    wanted = set(order_ids)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while not wanted <= receiver.orders:
                receiver.arrived.clear()
                await receiver.arrived.wait()
    missing = wanted - receiver.orders
    detail = (
        f"{len(wanted)} orders, {receiver.deliveries} deliveries received, "
        f"{len(missing)} orders without one"
    )
    return Outcome("every webhook delivered at least once", not missing and bool(wanted), detail)
