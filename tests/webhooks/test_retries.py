"""Retries: the Standard Webhooks schedule with jitter, Retry-After, 410 disables the endpoint,
failing for too long disables it and mails its owner, capped response bodies, replays."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from sqlalchemy import select, update

from quantdesk.config import Settings
from quantdesk.config.webhooks import DEFAULT_RETRY_SCHEDULE
from quantdesk.db import Database
from quantdesk.infra.events import emit
from quantdesk.models import utcnow
from quantdesk.models.webhooks import WebhookDelivery, WebhookEndpoint
from quantdesk.portfolio.events import AlertTriggered
from quantdesk.webhooks.sender import parse_retry_after, retry_delay
from tests.support.accounts import bearer, create_user, login, read_mails
from tests.support.webhooks import (
    Receiver,
    create_webhook,
    delivery_once,
    verify,
    webhook_settings,
)


@pytest.fixture
def settings(database_url: str, receiver: Receiver, tmp_path: Path) -> Settings:
    return webhook_settings(
        database_url,
        receiver,
        mail_dir=tmp_path / "mail",
        paper_desk_enabled=False,
        webhooks_retry_schedule=[0.05, 0.05],
    )


def test_schedule_is_standard_webhooks_with_20_percent_jitter() -> None:
    assert DEFAULT_RETRY_SCHEDULE == [5, 300, 1800, 7200, 18000, 36000, 36000]
    rng = random.Random(7)
    for made, base in enumerate(DEFAULT_RETRY_SCHEDULE, start=1):
        delays = [retry_delay(made, DEFAULT_RETRY_SCHEDULE, rng=rng) for _ in range(200)]
        assert all(d is not None and 0.8 * base <= d <= 1.2 * base for d in delays)
    assert retry_delay(len(DEFAULT_RETRY_SCHEDULE) + 1, DEFAULT_RETRY_SCHEDULE) is None


def test_retry_after_pushes_later_never_sooner() -> None:
    assert retry_delay(1, [5.0], retry_after=120.0) == 120.0
    assert 4.0 <= (retry_delay(1, [5.0], retry_after=1.0) or 0) <= 6.0
    assert retry_delay(1, [5.0], retry_after=10**9) == 3600.0
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("soon") is None


async def _setup(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> tuple[int, dict[str, str], dict[str, str]]:
    account = await create_user(db)
    headers = bearer(await login(client, account))
    hook = await create_webhook(client, headers, receiver.url, ["alert_triggered"])
    return account.id, headers, hook


def _alert(user_id: int) -> AlertTriggered:
    return AlertTriggered(
        user_id=user_id,
        alert_id="al",
        symbol="X",
        condition="above",
        level="1",
        price="2",
        bar_ts=1,
    )


async def test_a_failing_receiver_is_retried_until_it_answers(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver
) -> None:
    answers = iter([500, 503])

    async def flaky(request: web.Request) -> web.StreamResponse:
        return web.Response(status=next(answers, 200), text="x" * 50_000)

    receiver.respond = flaky
    user_id, headers, hook = await _setup(client, db, receiver)
    async with db.session() as session:
        await emit(session, None, [_alert(user_id)])
    received = await receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in received}) == 1  # one message, three attempts
    for r in received:
        verify(r, hook["secret"])
    listed = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=headers)).json()
    delivery_id = listed["data"][0]["id"]
    path = f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery_id}"
    detail = await delivery_once(client, headers, path, lambda d: len(d["attempt_log"]) == 3)
    assert detail["status"] == "succeeded"
    assert [a["status_code"] for a in detail["attempt_log"]] == [500, 503, 200]
    assert all(len(a["response"]) == 20_000 for a in detail["attempt_log"])


async def test_out_of_attempts_fails_then_replays(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver
) -> None:
    status = {"code": 500}

    async def answer(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status["code"])

    receiver.respond = answer
    user_id, headers, hook = await _setup(client, db, receiver)
    start = utcnow() - timedelta(seconds=1)
    async with db.session() as session:
        await emit(session, None, [_alert(user_id)])
    await receiver.wait_for(3)  # the first attempt and both retries
    base = f"/api/v1/webhooks/{hook['id']}"
    for _ in range(50):
        listed = (await client.get(f"{base}/deliveries?status=failed", headers=headers)).json()
        if listed["data"]:
            break
        await app.state.webhooks.run_once()
    (failed,) = listed["data"]
    status["code"] = 200
    replay = await client.post(f"{base}/deliveries/{failed['id']}/replay", headers=headers)
    assert replay.status_code == 202
    await receiver.wait_for(4)
    await client.post(f"{base}/replay", json={"since": start.isoformat()}, headers=headers)
    detail = await delivery_once(
        client, headers, f"{base}/deliveries/{failed['id']}", lambda d: d["status"] == "succeeded"
    )
    assert detail["attempt_log"][-1]["trigger"] == "manual"
    assert detail["status"] == "succeeded"


async def test_410_disables_the_endpoint_and_mails_its_owner(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver, settings: Settings
) -> None:
    async def gone(request: web.Request) -> web.StreamResponse:
        return web.Response(status=410)

    receiver.respond = gone
    user_id, headers, hook = await _setup(client, db, receiver)
    async with db.session() as session:
        await emit(session, None, [_alert(user_id)])
    await receiver.wait_for(1)
    for _ in range(50):
        got = (await client.get(f"/api/v1/webhooks/{hook['id']}", headers=headers)).json()
        if got["status"] == "disabled":
            break
        await app.state.webhooks.run_once()
    assert got["status"] == "disabled" and "410" in got["disabled_reason"]
    assert any(hook["id"] in body for body in read_mails(settings.mail_dir))


async def test_failing_for_five_days_disables_the_endpoint(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver, settings: Settings
) -> None:
    async def down(request: web.Request) -> web.StreamResponse:
        return web.Response(status=502)

    receiver.respond = down
    user_id, _headers, hook = await _setup(client, db, receiver)
    async with db.session() as session:
        await session.execute(
            update(WebhookEndpoint).values(failing_since=utcnow() - timedelta(days=5, minutes=1))
        )
        await emit(session, None, [_alert(user_id)])
    await receiver.wait_for(1)
    for _ in range(50):
        async with db.session() as session:
            endpoint = await session.get(WebhookEndpoint, hook["id"])
            statuses = (await session.scalars(select(WebhookDelivery.status))).all()
        if endpoint is not None and endpoint.status == "disabled":
            break
        await app.state.webhooks.run_once()
    assert endpoint is not None and endpoint.status == "disabled"
    assert "120 hours" in (endpoint.disabled_reason or "")
    assert statuses == ["failed"]
    assert any(hook["id"] in body for body in read_mails(settings.mail_dir))
