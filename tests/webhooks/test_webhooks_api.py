"""/webhooks: create (secret shown once), list, get, update, delete, rotate, test; ownership,
scopes, validation and audit."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.models import AuditEvent
from quantdesk.models.webhooks import WebhookEndpoint
from tests.support.accounts import bearer, create_key, create_user, login
from tests.support.webhooks import Receiver, create_webhook, verify


async def _signed_in(client: httpx.AsyncClient, db: Database) -> dict[str, str]:
    return bearer(await login(client, await create_user(db)))


async def test_create_shows_the_secret_once_and_never_again(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    headers = await _signed_in(client, db)
    created = await create_webhook(
        client, headers, receiver.url, ["order_update", "alert_triggered"], description="mine"
    )
    assert created["secret"].startswith("whsec_")
    assert created["status"] == "active"
    assert created["events"] == ["order_update", "alert_triggered"]
    listed = (await client.get("/api/v1/webhooks", headers=headers)).json()
    one = (await client.get(f"/api/v1/webhooks/{created['id']}", headers=headers)).json()
    assert [w["id"] for w in listed["data"]] == [created["id"]]
    for answer in (listed, one):
        assert created["secret"] not in str(answer)
        assert "secret" not in (answer["data"][0] if "data" in answer else answer)
    async with db.session() as session:
        stored = await session.scalar(select(WebhookEndpoint.secret))
    assert stored is not None and created["secret"] not in stored  # encrypted at rest


async def test_someone_elses_webhook_is_not_found(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    owner = await _signed_in(client, db)
    other = await _signed_in(client, db)
    created = await create_webhook(client, owner, receiver.url, ["order_update"])
    base = f"/api/v1/webhooks/{created['id']}"
    for method, path, body in (
        ("GET", base, None),
        ("PATCH", base, {"description": "x"}),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", None),
        ("POST", f"{base}/test", None),
        ("GET", f"{base}/deliveries", None),
        ("POST", f"{base}/replay", {"since": "2024-01-01"}),
    ):
        response = await client.request(method, path, json=body, headers=other)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["type"].endswith("/webhook-not-found")
    empty = (await client.get("/api/v1/webhooks", headers=other)).json()
    assert empty["data"] == [] and "POST /api/v1/webhooks" in empty["meta"]["hint"]


async def test_someone_elses_delivery_is_not_found(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    owner = await _signed_in(client, db)
    mine = await create_webhook(client, owner, receiver.url, ["order_update"])
    other = await _signed_in(client, db)
    theirs = await create_webhook(client, other, receiver.url, ["order_update"])
    queued = (await client.post(f"/api/v1/webhooks/{theirs['id']}/test", headers=other)).json()
    path = f"/api/v1/webhooks/{mine['id']}/deliveries/{queued['delivery_id']}"
    assert (await client.get(path, headers=owner)).status_code == 404
    assert (await client.post(f"{path}/replay", headers=owner)).status_code == 404


async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    headers = await _signed_in(client, db)
    cases = [
        ({"url": receiver.url, "events": ["price_update"]}, "body.events"),
        ({"url": receiver.url, "events": ["nope"]}, "body.events"),
        ({"url": receiver.url, "events": []}, "body.events"),
        ({"url": receiver.url, "events": ["order_update"], "extra": 1}, "body.extra"),
        ({"url": "ftp://example.com/x", "events": ["order_update"]}, "body.url"),
        ({"url": "http://user:pw@example.com/", "events": ["order_update"]}, "body.url"),
        ({"url": "http://localhost:9/", "events": ["order_update"]}, "body.url"),
        ({"url": "http://10.1.2.3/", "events": ["order_update"]}, "body.url"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/webhooks", json=body, headers=headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.text)


async def test_scope_manage_webhooks_is_required(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    body = {"url": receiver.url, "events": ["order_update"]}
    assert (await client.post("/api/v1/webhooks", json=body)).status_code == 401
    tokens = await login(client, await create_user(db))
    key = await create_key(client, tokens, scopes=["read:tickers"])
    response = await client.post(
        "/api/v1/webhooks", json=body, headers={"X-API-Key": str(key["key"])}
    )
    assert response.status_code == 403


async def test_update_delete_and_audit(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    headers = await _signed_in(client, db)
    created = await create_webhook(client, headers, receiver.url, ["order_update"])
    path = f"/api/v1/webhooks/{created['id']}"
    changed = await client.patch(
        path, json={"events": ["alert_triggered"], "status": "disabled"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["alert_triggered"]
    assert changed.json()["status"] == "disabled"
    assert (await client.post(f"{path}/test", headers=headers)).status_code == 409
    rotated = await client.post(f"{path}/rotate-secret", headers=headers)
    assert rotated.status_code == 200
    assert (await client.delete(path, headers=headers)).status_code == 204
    assert (await client.get(path, headers=headers)).status_code == 404
    async with db.session() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.resource_id == created["id"])
            )
        ).all()
        details = (await session.scalars(select(AuditEvent.details))).all()
    assert set(actions) == {"webhook.created", "webhook.secret_rotated", "webhook.deleted"}
    assert created["secret"] not in str(details)


async def test_test_event_is_delivered_signed(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    headers = await _signed_in(client, db)
    created = await create_webhook(client, headers, receiver.url, ["order_update"])
    queued = await client.post(f"/api/v1/webhooks/{created['id']}/test", headers=headers)
    assert queued.status_code == 202
    (received,) = await receiver.wait_for(1)
    payload = verify(received, created["secret"])
    assert payload["type"] == "webhook.test"
    assert payload["data"] == {"webhook_id": created["id"]}
    assert received.headers["webhook-id"] == queued.json()["delivery_id"]


async def test_rotation_signs_with_both_secrets_for_a_day(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    headers = await _signed_in(client, db)
    created = await create_webhook(client, headers, receiver.url, ["order_update"])
    rotated = (
        await client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret", headers=headers)
    ).json()
    assert rotated["secret"] != created["secret"]
    await client.post(f"/api/v1/webhooks/{created['id']}/test", headers=headers)
    (received,) = await receiver.wait_for(1)
    assert received.headers["webhook-signature"].count("v1,") == 2
    verify(received, created["secret"])
    verify(received, rotated["secret"])


async def test_admin_role_is_not_needed(
    client: httpx.AsyncClient, db: Database, receiver: Receiver
) -> None:
    tokens = await login(client, await create_user(db, role=Role.USER))
    await create_webhook(client, bearer(tokens), receiver.url, ["new_signal"])
