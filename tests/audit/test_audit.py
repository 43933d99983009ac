"""The audit log records security events, hides secrets, and detects tampering."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from quantdesk.access.scopes import Role
from quantdesk.audit.service import audit_service
from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from quantdesk.db import Database
from quantdesk.models import AuditEvent
from tests.support.accounts import bearer, create_key, create_user, login, new_password


async def actions(db: Database) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = (await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars().all()
    return [(row.action, row.outcome) for row in rows]


async def test_security_events_are_recorded(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db)
    await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": new_password()}
    )
    tokens = await login(client, account)
    key = await create_key(client, tokens)
    await client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=bearer(tokens))
    await client.delete(f"/api/v1/api-keys/{key['id']}", headers=bearer(tokens))
    await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    recorded = await actions(db)
    for expected in [
        ("auth.register", "success"),
        ("auth.login", "failure"),
        ("auth.login", "success"),
        ("api_key.create", "success"),
        ("api_key.rotate", "success"),
        ("api_key.revoke", "success"),
        ("auth.refresh_reuse", "denied"),
    ]:
        assert expected in recorded
    async with db.session() as session:
        report = await audit_service.verify(session)
    assert report.ok and report.rows == len(recorded)


async def test_permission_denied_is_recorded(client: httpx.AsyncClient, db: Database) -> None:
    analyst = await login(client, await create_user(db, Role.ANALYST))
    assert (await client.get("/api/v1/admin/users", headers=bearer(analyst))).status_code == 403
    async with db.session() as session:
        denied = (
            await session.execute(select(AuditEvent).where(AuditEvent.action == "access.denied"))
        ).scalar_one()
    assert denied.outcome == "denied" and denied.details["scope"] == "manage:users"


async def test_audit_details_never_hold_secrets(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db)
    async with db.session() as session:
        await audit_service.record(
            session,
            action="test.secret",
            details={"password": account.password, "note": f"token={account.password}"},
        )
    async with db.session() as session:
        stored = (
            await session.execute(select(AuditEvent).where(AuditEvent.action == "test.secret"))
        ).scalar_one()
    assert account.password not in str(stored.details)


async def test_edited_row_breaks_the_chain_at_that_row(db: Database) -> None:
    async with db.session() as session:
        for index in range(5):
            await audit_service.record(session, action="test.event", details={"n": index})
    async with db.session() as session:
        third = (
            await session.execute(select(AuditEvent.id).order_by(AuditEvent.id).offset(2).limit(1))
        ).scalar_one()
        await session.execute(
            text("UPDATE audit_events SET outcome = 'failure' WHERE id = :id"), {"id": third}
        )
    async with db.session() as session:
        report = await audit_service.verify(session)
    assert not report.ok and report.first_broken_id == third


async def test_deleted_row_breaks_the_chain(db: Database) -> None:
    async with db.session() as session:
        for index in range(4):
            await audit_service.record(session, action="test.event", details={"n": index})
    async with db.session() as session:
        ids = (await session.execute(select(AuditEvent.id).order_by(AuditEvent.id))).scalars().all()
        await session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
    async with db.session() as session:
        report = await audit_service.verify(session)
    assert report.first_broken_id == ids[2]


async def test_admin_audit_endpoint_filters(client: httpx.AsyncClient, db: Database) -> None:
    admin = await login(client, await create_user(db, Role.ADMIN))
    user = await login(client, await create_user(db, Role.ANALYST))
    assert (await client.get("/api/v1/admin/audit", headers=bearer(user))).status_code == 403
    page = await client.get("/api/v1/admin/audit?action=auth.login&limit=1", headers=bearer(admin))
    assert page.status_code == 200
    body = page.json()
    assert [event["action"] for event in body["data"]] == ["auth.login"] and body["meta"][
        "next_cursor"
    ]


def test_cli_verify_names_the_broken_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from quantdesk import migrate
    from tests.support.settings import make_settings, sqlite_url

    url = sqlite_url(tmp_path / "audit.db")
    migrate.upgrade(url)
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
    get_settings.cache_clear()

    async def seed() -> None:
        db = Database(make_settings(url))
        async with db.session() as session:
            for index in range(3):
                await audit_service.record(session, action="test.event", details={"n": index})
        await db.dispose()

    asyncio.run(seed())
    runner = CliRunner()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 events" in ok.output

    async def tamper() -> None:
        db = Database(make_settings(url))
        async with db.session() as session:
            await session.execute(
                text("UPDATE audit_events SET details = '{\"n\": 9}' WHERE id = 2")
            )
        await db.dispose()

    asyncio.run(tamper())
    broken = runner.invoke(cli, ["audit", "verify"])
    get_settings.cache_clear()
    assert broken.exit_code == 1 and "broken at event 2" in broken.output
