"""GET /admin/audit/verify: the chain's verification status over HTTP (the dashboard shows it)."""

from __future__ import annotations

import httpx
from sqlalchemy import select, text

from quantdesk.access.scopes import Role
from quantdesk.audit.service import audit_service
from quantdesk.db import Database
from quantdesk.models import AuditEvent
from tests.support.accounts import bearer, create_user, login


async def test_verify_endpoint_reports_an_intact_then_a_broken_chain(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await login(client, await create_user(db, Role.ADMIN))
    analyst = await login(client, await create_user(db, Role.ANALYST))
    denied = await client.get("/api/v1/admin/audit/verify", headers=bearer(analyst))
    assert denied.status_code == 403

    intact = await client.get("/api/v1/admin/audit/verify", headers=bearer(admin))
    assert intact.status_code == 200
    body = intact.json()["data"]
    assert body["ok"] is True and body["rows"] >= 3
    assert body["first_broken_id"] is None and body["reason"] is None

    async with db.session() as session:
        await audit_service.record(session, action="test.event", details={"n": 1})
    async with db.session() as session:
        last = (
            await session.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
        ).scalar()
        await session.execute(
            text("UPDATE audit_events SET outcome = 'failure' WHERE id = :id"), {"id": last}
        )
    broken = (await client.get("/api/v1/admin/audit/verify", headers=bearer(admin))).json()["data"]
    assert broken["ok"] is False and broken["first_broken_id"] == last
    assert broken["reason"] == "content does not match its hash"
