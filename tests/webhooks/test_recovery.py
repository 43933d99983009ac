"""Never lost: a worker killed mid-batch (its rows stay leased) and a flushed Redis lose no
delivery; the next worker sends every one once the leases run out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis
from aiohttp import web
from fastapi import FastAPI
from sqlalchemy import select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import emit
from quantdesk.models.webhooks import DeliveryStatus, WebhookDelivery
from quantdesk.portfolio.events import AlertTriggered
from quantdesk.webhooks.dispatcher import Dispatcher
from tests.support.accounts import bearer, create_user, login
from tests.support.servers import RedisProcess
from tests.support.webhooks import Receiver, create_webhook, verify, webhook_settings

EVENTS = 30


@pytest.fixture
def settings(
    database_url: str, receiver: Receiver, tmp_path: Path, redis_process: RedisProcess
) -> Settings:
    return webhook_settings(
        database_url,
        receiver,
        mail_dir=tmp_path / "mail",
        paper_desk_enabled=False,
        webhooks_dispatcher_enabled=False,  # the test runs the workers
        webhooks_lease_seconds=1,
        webhooks_batch_size=10,
        events_backend="redis",
        redis_url=redis_process.url,
    )


@pytest.mark.redis
async def test_killed_worker_and_flushed_redis_lose_nothing(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    receiver: Receiver,
    settings: Settings,
    redis_process: RedisProcess,
) -> None:
    hang = asyncio.Event()

    async def answer(request: web.Request) -> web.StreamResponse:
        if not hang.is_set():
            await hang.wait()  # the first worker's batch gets no answer before it dies
            return web.Response(status=503)
        return web.Response(text="ok")

    receiver.respond = answer
    account = await create_user(db)
    hook = await create_webhook(
        client, bearer(await login(client, account)), receiver.url, ["alert_triggered"]
    )
    async with db.session() as session:
        await emit(
            session,
            app.state.events,
            [
                AlertTriggered(account.id, f"al_{n}", "X", "above", "1", "2", n)
                for n in range(EVENTS)
            ],
        )
    async with db.session() as session:
        ids = set((await session.scalars(select(WebhookDelivery.id))).all())
    assert len(ids) == EVENTS

    first = Dispatcher(db, settings)
    killed = asyncio.create_task(first.run_once())
    await receiver.wait_for(settings.webhooks_batch_size)  # mid-batch: all sent, none answered
    killed.cancel()  # the worker dies holding its leases
    await asyncio.gather(killed, return_exceptions=True)
    await first.stop()
    connection = redis.from_url(redis_process.url)
    await connection.flushall()  # whatever Redis held is gone too
    await connection.aclose()
    hang.set()
    before = len(receiver.requests)

    second = Dispatcher(db, settings)
    try:
        for _ in range(100):
            await second.run_once()
            async with db.session() as session:
                statuses = (await session.scalars(select(WebhookDelivery.status))).all()
            if all(s is DeliveryStatus.SUCCEEDED for s in statuses):
                break
            await asyncio.sleep(0.1)
    finally:
        await second.stop()
    assert statuses.count(DeliveryStatus.SUCCEEDED) == EVENTS
    answered = receiver.requests[before:]
    assert {r.headers["webhook-id"] for r in answered} == ids  # every event, at least once
    for r in answered:
        verify(r, hook["secret"])
