"""The outbox: delivery rows commit or roll back with their cause, reach only the owner's
webhooks, cost one query when no webhook exists (one per transaction with several processes,
where a webhook another replica creates is seen at once), and every delivery verifies with the
Standard Webhooks reference library."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select

from quantdesk.access.scopes import Role
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import emit
from quantdesk.models.webhooks import WebhookDelivery
from quantdesk.portfolio.events import AlertTriggered, OrderUpdate
from quantdesk.webhooks import outbox
from tests.support.accounts import bearer, create_user, login
from tests.support.webhooks import Receiver, create_webhook, recorded_deliveries, verify


def _alert(user_id: int, n: int = 1) -> AlertTriggered:
    return AlertTriggered(
        user_id=user_id,
        alert_id=f"al_{n}",
        symbol="GOOG",
        condition="above",
        level="100",
        price="101",
        bar_ts=1_700_000_000 + n,
    )


def _order(account_id: str, n: int = 1) -> OrderUpdate:
    return OrderUpdate(
        account_id=account_id,
        order_id=f"ord_{n}",
        event="accepted",
        status="accepted",
        symbol="GOOG",
        side="buy",
        qty="1",
        filled_qty="0",
        filled_avg_price=None,
    )


async def _user(
    client: httpx.AsyncClient, db: Database, role: Role = Role.USER
) -> tuple[int, dict[str, str]]:
    account = await create_user(db, role=role)
    return account.id, bearer(await login(client, account))


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0)


async def test_an_emitted_event_is_delivered_signed(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver
) -> None:
    user_id, headers = await _user(client, db)
    hook = await create_webhook(client, headers, receiver.url, ["alert_triggered"])
    async with db.session() as session:
        await emit(session, app.state.events, [_alert(user_id)])
    (received,) = await receiver.wait_for(1)
    payload = verify(received, hook["secret"])
    assert payload["type"] == "alert_triggered"
    assert payload["data"]["alert_id"] == "al_1"
    assert payload["timestamp"].endswith("Z")
    (delivery,) = await recorded_deliveries(client, headers, hook["id"])
    assert delivery["id"] == received.headers["webhook-id"]
    assert delivery["attempts"] == 1
    assert delivery["last_status_code"] == 200
    assert delivery["last_latency_ms"] is not None and delivery["last_response"] == "ok"


async def test_a_rolled_back_cause_writes_no_delivery(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver
) -> None:
    user_id, headers = await _user(client, db)
    await create_webhook(client, headers, receiver.url, ["alert_triggered"])

    async def failing_cause() -> None:
        async with db.session() as session:
            await emit(session, app.state.events, [_alert(user_id)])
            assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
            raise RuntimeError("the cause failed")

    with pytest.raises(RuntimeError):
        await failing_cause()
    assert await _count(db) == 0


async def test_owned_events_reach_only_their_owners_webhooks(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver
) -> None:
    owner_id, owner = await _user(client, db)
    _, stranger = await _user(client, db)
    _, admin = await _user(client, db, Role.ADMIN)
    events = ["order_update", "alert_triggered", "job_failed", "new_signal"]
    mine = await create_webhook(client, owner, receiver.url + "?who=owner", events)
    await create_webhook(client, stranger, receiver.url + "?who=stranger", events)
    account = await client.post("/api/v1/accounts", json={"name": "main"}, headers=owner)
    assert account.status_code == 201, account.text
    async with db.session() as session:
        await emit(session, app.state.events, [_order(account.json()["id"]), _alert(owner_id)])
    received = await receiver.wait_for(2)
    assert sorted(verify(r, mine["secret"])["type"] for r in received) == [
        "alert_triggered",
        "order_update",
    ]
    assert await _count(db) == 2  # nothing was written for the stranger (nor the admin)
    del admin


async def _webhook_statements(db: Database, user_id: int, emits: int) -> list[str]:
    """The statements naming webhooks that `emits` emitting transactions ran."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        for n in range(emits):
            async with db.session() as session:
                await emit(session, None, [_alert(user_id, n + 1)])
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    return [s for s in statements if "webhook" in s.lower()]


async def test_a_single_process_asks_once_when_no_webhook_exists(
    db: Database, app: FastAPI
) -> None:
    user = await create_user(db)
    (asked,) = await _webhook_statements(db, user.id, emits=3)  # then "none" is remembered
    assert "EXISTS" in asked.upper()
    assert await _count(db) == 0


def _one_of_several_processes(settings: Settings) -> None:
    """This process as one replica among several (the Redis event bus)."""
    outbox.configure(settings.model_copy(update={"events_backend": "redis"}))


async def test_one_of_several_processes_asks_every_time_when_no_webhook_exists(
    db: Database, app: FastAPI, settings: Settings
) -> None:
    user = await create_user(db)
    _one_of_several_processes(settings)
    asked = await _webhook_statements(db, user.id, emits=3)
    assert len(asked) == 3 and all("EXISTS" in s.upper() for s in asked)


async def test_a_webhook_created_by_another_process_gets_the_next_event(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    settings: Settings,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another replica creates the webhook: nothing in this process forgets anything, and the
    "no webhook" answer this process got just before must not hide the new one."""
    user_id, headers = await _user(client, db)
    _one_of_several_processes(settings)
    async with db.session() as session:
        await emit(session, None, [_alert(user_id, 1)])  # asked: no webhook yet
    monkeypatch.setattr(outbox, "forget_subscriptions", lambda: None)
    await create_webhook(client, headers, receiver.url, ["alert_triggered"])
    async with db.session() as session:
        await emit(session, None, [_alert(user_id, 2)])
    assert await _count(db) == 1


async def test_a_new_webhook_is_seen_at_once_by_its_process(
    client: httpx.AsyncClient, db: Database, app: FastAPI, receiver: Receiver
) -> None:
    user_id, headers = await _user(client, db)
    async with db.session() as session:  # "no webhooks" is now remembered ...
        await emit(session, None, [_alert(user_id, 1)])
    await create_webhook(client, headers, receiver.url, ["alert_triggered"])  # ... and forgotten
    async with db.session() as session:
        await emit(session, None, [_alert(user_id, 2)])
    assert await _count(db) == 1
