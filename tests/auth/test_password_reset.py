"""Password reset: single-use, expiring token delivered by the mail backend."""

from __future__ import annotations

import email
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import update

from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import PasswordResetToken
from tests.auth.factories import create_user, new_password
from tests.marketdata.test_api import assert_problem
from tests.secrets_watch import remember


@pytest.fixture
async def mail_client(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Database, Path]]:
    inbox = tmp_path / "mail"
    app = create_app(settings.model_copy(update={"mail_backend": "file", "mail_dir": inbox}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, app.state.db, inbox


def read_token(inbox: Path) -> str:
    (message_file,) = inbox.glob("*.eml")
    message = email.message_from_bytes(message_file.read_bytes())
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(r"token=([\w-]+)", body.decode())
    assert found
    remember(found.group(1))
    return found.group(1)


async def test_reset_flow(mail_client: tuple[httpx.AsyncClient, Database, Path]) -> None:
    client, db, inbox = mail_client
    account = await create_user(db)
    asked = await client.post("/api/v1/auth/password-reset/request", json={"email": account.email})
    unknown = await client.post(
        "/api/v1/auth/password-reset/request", json={"email": "ghost@example.com"}
    )
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    token = read_token(inbox)

    new = new_password()
    confirm = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new}
    )
    assert confirm.status_code == 204
    assert (
        await client.post("/api/v1/auth/login", json={"email": account.email, "password": new})
    ).status_code == 200
    old = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert_problem(old, 401)
    again = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password()}
    )
    assert_problem(again, 401)


async def test_expired_reset_token_is_refused(
    mail_client: tuple[httpx.AsyncClient, Database, Path],
) -> None:
    client, db, inbox = mail_client
    account = await create_user(db)
    await client.post("/api/v1/auth/password-reset/request", json={"email": account.email})
    token = read_token(inbox)
    async with db.session() as session:
        await session.execute(
            update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password()}
    )
    assert_problem(response, 401)
