"""OWASP API2: broken authentication. Every malformed or hostile JWT is a 401."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from quantdesk.auth.tokens import signing_keys
from quantdesk.config import Settings
from quantdesk.db import Database
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _forge(settings: Settings, claims: dict[str, Any], **changes: Any) -> str:
    kid, keys = signing_keys(settings)
    key = changes.pop("_key", keys[kid])
    headers = changes.pop("_headers", {"kid": kid})
    payload = {**claims, **changes}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="HS256", headers=headers)


def _attacks() -> list[tuple[str, Callable[[Settings, dict[str, Any], str], str]]]:
    now = datetime.now(UTC)
    return [
        (
            "alg none",
            lambda s, c, t: (
                _b64({"alg": "none", "typ": "JWT", "kid": "k1"})
                + "."
                + _b64({**c, "exp": int(c["exp"])})
                + "."
            ),
        ),
        ("wrong audience", lambda s, c, t: _forge(s, c, aud="someone-else")),
        ("wrong issuer", lambda s, c, t: _forge(s, c, iss="evil")),
        (
            "expired",
            lambda s, c, t: _forge(
                s,
                c,
                exp=now - timedelta(minutes=1),
                iat=now - timedelta(minutes=20),
                nbf=now - timedelta(minutes=20),
            ),
        ),
        (
            "not yet valid",
            lambda s, c, t: _forge(
                s, c, nbf=now + timedelta(minutes=10), iat=now + timedelta(minutes=10)
            ),
        ),
        (
            "tampered signature",
            lambda s, c, t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
        ),
        (
            "tampered payload",
            lambda s, c, t: (
                t.split(".")[0]
                + "."
                + _b64({**c, "scope": "system:admin manage:users", "exp": int(c["exp"])})
                + "."
                + t.split(".")[2]
            ),
        ),
        ("other key", lambda s, c, t: _forge(s, c, _key=b"k" * 32)),
        ("unknown kid", lambda s, c, t: _forge(s, c, _headers={"kid": "nope"})),
        ("missing jti", lambda s, c, t: _forge(s, c, jti=None)),
        ("not an access token", lambda s, c, t: _forge(s, c, typ="refresh")),
        (
            "HS512 instead of the pinned HS256",
            lambda s, c, t: jwt.encode(
                c, signing_keys(s)[1]["k1"], algorithm="HS512", headers={"kid": "k1"}
            ),
        ),
    ]


@pytest.mark.parametrize("attack", _attacks(), ids=[name for name, _ in _attacks()])
async def test_hostile_tokens_are_401(
    client: httpx.AsyncClient,
    db: Database,
    app: FastAPI,
    attack: tuple[str, Callable[[Settings, dict[str, Any], str], str]],
) -> None:
    tokens = await login(client, await create_user(db))
    genuine = tokens["access_token"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    forged = attack[1](app.state.settings, claims, genuine)
    remember(forged)
    assert_problem(
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}), 401
    )
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200


async def test_refresh_token_is_not_an_access_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    response = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Token abc"])
async def test_malformed_authorization_header_is_401(
    client: httpx.AsyncClient, header: str
) -> None:
    assert_problem(await client.get("/api/v1/instruments", headers={"Authorization": header}), 401)


async def test_signing_key_rotation_keeps_old_tokens_valid(
    db: Database, settings: Settings
) -> None:
    from quantdesk.auth.tokens import issue_access_token, verify_access_token

    old = settings.model_copy(
        update={"jwt_keys": {"2025": SecretStr("a" * 40)}, "jwt_active_kid": "2025"}
    )
    token, _ = issue_access_token(old, user_id=1, session_id="s", scopes=frozenset())
    rotated = settings.model_copy(
        update={
            "jwt_keys": {"2025": SecretStr("a" * 40), "2026": SecretStr("b" * 40)},
            "jwt_active_kid": "2026",
        }
    )
    assert verify_access_token(rotated, token).user_id == 1
    new_token, _ = issue_access_token(rotated, user_id=2, session_id="s", scopes=frozenset())
    assert jwt.get_unverified_header(new_token)["kid"] == "2026"
    retired = settings.model_copy(
        update={"jwt_keys": {"2026": SecretStr("b" * 40)}, "jwt_active_kid": "2026"}
    )
    with pytest.raises(Exception, match="invalid"):
        verify_access_token(retired, token)
