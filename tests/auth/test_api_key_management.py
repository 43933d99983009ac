"""Who may manage API keys, how a key's expiry is given, and the list envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from tests.support.accounts import bearer, create_key, create_user, login
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember


def _error_fields(response: httpx.Response) -> set[str]:
    body = assert_problem(response, 422)
    return {".".join(error["loc"]) for error in body["errors"]}  # type: ignore[attr-defined]


async def test_a_read_only_key_cannot_list_or_revoke_keys(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    other = await create_key(client, tokens, name="other")
    reader = await create_key(client, tokens, scopes=["read:tickers"])
    as_reader = {"X-API-Key": str(reader["key"])}
    assert_problem(await client.get("/api/v1/api-keys", headers=as_reader), 403)
    for key in (other, reader):
        assert_problem(await client.delete(f"/api/v1/api-keys/{key['id']}", headers=as_reader), 403)
        rotate = await client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=as_reader)
        assert_problem(rotate, 403)
    create = await client.post("/api/v1/api-keys", json={"name": "child"}, headers=as_reader)
    assert_problem(create, 403)
    # Nothing was revoked: both keys still work.
    for key in (other, reader):
        me = await client.get("/api/v1/auth/me", headers={"X-API-Key": str(key["key"])})
        assert me.status_code == 200


async def test_key_management_is_granted_only_by_name(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    default = await create_key(client, tokens)
    assert "manage:api-keys" not in default["scopes"]  # type: ignore[operator]
    assert_problem(
        await client.get("/api/v1/api-keys", headers={"X-API-Key": str(default["key"])}), 403
    )
    manager = await create_key(client, tokens, scopes=["read:tickers", "manage:api-keys"])
    as_manager = {"X-API-Key": str(manager["key"])}
    listed = await client.get("/api/v1/api-keys", headers=as_manager)
    assert listed.status_code == 200 and len(listed.json()["data"]) == 2
    # It may mint keys within its own scopes, never beyond them...
    child = await client.post("/api/v1/api-keys", json={"name": "child"}, headers=as_manager)
    assert child.status_code == 201, child.text
    remember(child.json()["key"])
    assert child.json()["scopes"] == ["read:tickers"]
    greedy = await client.post(
        "/api/v1/api-keys",
        json={"name": "greedy", "scopes": ["run:backtest"]},
        headers=as_manager,
    )
    assert _error_fields(greedy) == {"body.scopes"}
    # ... nor rotate a broader key (the new secret would carry scopes it lacks).
    broader = await client.post(f"/api/v1/api-keys/{default['id']}/rotate", headers=as_manager)
    assert_problem(broader, 403)
    revoked = await client.delete(f"/api/v1/api-keys/{default['id']}", headers=as_manager)
    assert revoked.status_code == 204


async def test_expiry_in_days(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db))
    before = datetime.now(UTC)
    created = await create_key(client, tokens, expires_in_days=7)
    expires = datetime.fromisoformat(str(created["expires_at"]).replace("Z", "+00:00"))
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"expires_in": 30}, {"body.expires_in"}),  # unknown: once silently ignored
        ({"expires_in_days": 0}, {"body.expires_in_days"}),
        ({"expires_in_days": 3651}, {"body.expires_in_days"}),
        ({"expires_at": "2999-01-01T00:00:00"}, {"body.expires_at"}),  # no timezone
        ({"expires_at": "2001-01-01T00:00:00Z"}, {"body.expires_at"}),  # in the past
        (
            {"expires_at": "2999-01-01T00:00:00Z", "expires_in_days": 30},
            {"body.expires_at", "body.expires_in_days"},
        ),
    ],
)
async def test_bad_expiry_is_422_naming_the_field(
    client: httpx.AsyncClient, db: Database, body: dict[str, object], fields: set[str]
) -> None:
    tokens = await login(client, await create_user(db))
    response = await client.post(
        "/api/v1/api-keys", json={"name": "k", **body}, headers=bearer(tokens)
    )
    assert _error_fields(response) == fields


async def test_keys_are_listed_in_the_list_envelope_with_cursor_pages(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db, Role.USER))
    created = [await create_key(client, tokens, name=f"k{i}") for i in range(3)]
    first = (await client.get("/api/v1/api-keys?limit=2", headers=bearer(tokens))).json()
    assert first["meta"]["count"] == 2 and first["meta"]["next_cursor"]
    second = (
        await client.get(
            "/api/v1/api-keys",
            params={"limit": 2, "cursor": first["meta"]["next_cursor"]},
            headers=bearer(tokens),
        )
    ).json()
    assert second["meta"] == {"count": 1, "next_cursor": None}
    ids = [key["id"] for key in first["data"] + second["data"]]
    assert ids == [key["id"] for key in created]
