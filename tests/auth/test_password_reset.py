"""Password reset: single-use, expiring token delivered by the mail backend."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import update

from quantdesk.app import create_app
from quantdesk.auth import tokens
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import PasswordResetToken
from tests.support.accounts import create_user, new_password, read_mails
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember


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


def token_in(body: str) -> str:
    found = re.search(r"token=([\w-]+)", body)
    assert found
    remember(found.group(1))
    return found.group(1)


def read_token(inbox: Path) -> str:
    (body,) = read_mails(inbox)
    return token_in(body)


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


async def _confirm(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password()}
    )


async def test_a_new_reset_link_replaces_the_earlier_ones(
    mail_client: tuple[httpx.AsyncClient, Database, Path],
) -> None:
    client, db, inbox = mail_client
    account = await create_user(db)
    for _ in range(2):
        asked = await client.post(
            "/api/v1/auth/password-reset/request", json={"email": account.email}
        )
        assert asked.status_code == 202
    older, newer = (token_in(body) for body in read_mails(inbox))
    assert_problem(await _confirm(client, older), 401)  # issuing the newer one spent it
    assert (await _confirm(client, newer)).status_code == 204
    assert_problem(await _confirm(client, older), 401)


async def test_using_a_reset_token_spends_every_other_outstanding_one(
    mail_client: tuple[httpx.AsyncClient, Database, Path],
) -> None:
    """Two live tokens (issued before this rule existed, or by racing requests): using
    either one spends the other."""
    client, db, _ = mail_client
    account = await create_user(db)
    first, second = tokens.new_opaque_token(), tokens.new_opaque_token()
    remember(first, second)
    async with db.session() as session:
        for token in (first, second):
            session.add(
                PasswordResetToken(
                    user_id=account.id,
                    token_hash=tokens.hash_opaque_token(token),
                    expires_at=datetime.now(UTC) + timedelta(minutes=30),
                )
            )
    assert (await _confirm(client, second)).status_code == 204
    assert_problem(await _confirm(client, first), 401)
