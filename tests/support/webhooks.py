"""Webhook tests: a real HTTP receiver on loopback that records every request (and verifies
it with the Standard Webhooks reference library), and settings that let webhooks reach it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from standardwebhooks import Webhook

from quantdesk.config import Settings
from tests.support.secrets_watch import remember
from tests.support.settings import make_settings

Responder = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """An aiohttp server on 127.0.0.1; `respond` decides each answer (200 by default)."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    respond: Responder | None = None
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Received(dict(request.headers), body, time.monotonic()))
        self._arrived.set()
        if self.respond is not None:
            return await self.respond(request)
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"received {len(self.requests)} of {count} deliveries")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, 0.5))
        return self.requests


async def recorded_deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], hook_id: str, within: float = 10.0
) -> list[dict[str, Any]]:
    """The hook's deliveries once each has its attempt recorded: the receiver answers before
    the dispatcher's transaction that records the attempt commits."""
    deadline = time.monotonic() + within
    while True:
        response = await client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=headers)
        data: list[dict[str, Any]] = response.json()["data"]
        if (data and all(d["attempts"] for d in data)) or time.monotonic() > deadline:
            return data
        await asyncio.sleep(0.05)


async def delivery_once(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    path: str,
    done: Callable[[dict[str, Any]], bool],
    within: float = 10.0,
) -> dict[str, Any]:
    """GET `path` (a delivery) until `done(answer)` or `within` seconds: an attempt the receiver
    answered is recorded by the dispatcher's next transaction, a moment later."""
    deadline = time.monotonic() + within
    while True:
        answer: dict[str, Any] = (await client.get(path, headers=headers)).json()
        if done(answer) or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.05)


def verify(received: Received, secret: str) -> dict[str, Any]:
    """The delivery's JSON body, after the reference library accepted its signature."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


def webhook_settings(database_url: str, *receivers: Receiver, **overrides: Any) -> Settings:
    overrides.setdefault("webhooks_allow_hosts", [r.host for r in receivers])
    overrides.setdefault("webhooks_sweep_seconds", 0.2)
    return make_settings(database_url, **overrides)


async def create_webhook(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str], **more: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": events, **more}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    remember(created["secret"])
    return created
