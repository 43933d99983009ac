"""Users, sessions and keys for tests; every secret is registered with the log watcher."""

from __future__ import annotations

import email
import itertools
import secrets
from dataclasses import dataclass
from pathlib import Path

import httpx

from quantdesk.access.scopes import Role
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.db import Database
from tests.support.secrets_watch import remember

_serial = itertools.count(1)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str
    role: Role


def new_password() -> str:
    password = "Qd-" + secrets.token_urlsafe(15)
    remember(password)
    return password


async def create_user(db: Database, role: Role = Role.USER, email: str | None = None) -> Account:
    email = email or f"user{next(_serial)}-{secrets.token_hex(3)}@example.com"
    password = new_password()
    async with db.session() as session:
        user = await auth_service.register(
            session,
            email=email,
            password=password,
            role=role,
            client=ClientInfo("127.0.0.1", "tests"),
        )
    return Account(user.id, user.email, password, role)


async def login(client: httpx.AsyncClient, account: Account) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    remember(tokens["access_token"], tokens["refresh_token"])
    return tokens


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def create_key(
    client: httpx.AsyncClient, tokens: dict[str, str], **body: object
) -> dict[str, object]:
    response = await client.post(
        "/api/v1/api-keys", json={"name": "test key", **body}, headers=bearer(tokens)
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    remember(str(created["key"]))
    return created


def read_mails(inbox: Path) -> list[str]:
    """Every mail body in the inbox, oldest first (file names start with the send time)."""
    bodies = []
    for message_file in sorted(inbox.glob("*.eml")):
        body = email.message_from_bytes(message_file.read_bytes()).get_payload(decode=True)
        assert isinstance(body, bytes)
        bodies.append(body.decode())
    return bodies
