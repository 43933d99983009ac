"""API keys: shown once, hashed at rest, scoped, revocable, rotatable, checksum-guarded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import event, select

from quantdesk.access.scopes import Role
from quantdesk.auth import keyformat
from quantdesk.auth.key_cache import api_key_cache
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.models import ApiKey
from tests.support.accounts import bearer, create_key, create_user, login
from tests.support.problems import assert_problem


async def test_key_is_shown_once_and_stored_hashed(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db))
    created = await create_key(client, tokens, scopes=["read:tickers"])
    secret = str(created["key"])
    assert secret.startswith("qd_live_") and len(secret) == len("qd_live_") + 38
    assert keyformat.well_formed(secret)
    listed = (await client.get("/api/v1/api-keys", headers=bearer(tokens))).json()["data"]
    assert [k["prefix"] for k in listed] == [secret[:14]]
    assert secret not in str(listed) and "key_hash" not in listed[0]
    async with db.session() as session:
        stored = (await session.execute(select(ApiKey))).scalar_one()
    assert (
        stored.key_hash != secret and secret not in stored.key_hash and len(stored.key_hash) == 64
    )

    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": secret})
    assert me.status_code == 200 and me.json()["scopes"] == ["read:tickers"]


async def test_key_scopes_cannot_exceed_the_owner(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db, Role.USER))
    response = await client.post(
        "/api/v1/api-keys",
        json={"name": "greedy", "scopes": ["read:tickers", "manage:users"]},
        headers=bearer(tokens),
    )
    body = assert_problem(response, 422)
    assert "manage:users" in str(body["detail"])


async def test_default_scopes_are_the_owners(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db, Role.PREMIUM))
    created = await create_key(client, tokens)
    assert "read:premium" in created["scopes"] and "manage:users" not in created["scopes"]  # type: ignore[operator]


async def test_revoked_key_is_401(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db))
    created = await create_key(client, tokens)
    assert (
        await client.delete(f"/api/v1/api-keys/{created['id']}", headers=bearer(tokens))
    ).status_code == 204
    assert_problem(
        await client.get("/api/v1/auth/me", headers={"X-API-Key": str(created["key"])}), 401
    )


async def test_expired_key_is_401(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db))
    created = await create_key(
        client, tokens, expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()
    )
    async with db.session() as session:
        key = (await session.execute(select(ApiKey))).scalar_one()
        key.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert_problem(
        await client.get("/api/v1/auth/me", headers={"X-API-Key": str(created["key"])}), 401
    )


async def test_bad_checksum_is_rejected_without_a_database_query(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    secret = str((await create_key(client, tokens))["key"])
    broken = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        response = await client.get("/api/v1/auth/me", headers={"X-API-Key": broken})
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert_problem(response, 401)
    assert not [s for s in statements if "api_keys" in s]


async def test_rotation_replaces_the_secret(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db))
    created = await create_key(client, tokens)
    rotated = await client.post(f"/api/v1/api-keys/{created['id']}/rotate", headers=bearer(tokens))
    assert rotated.status_code == 200
    new_secret = rotated.json()["key"]
    from tests.support.secrets_watch import remember

    remember(new_secret)
    assert new_secret != created["key"] and rotated.json()["id"] == created["id"]
    assert_problem(
        await client.get("/api/v1/auth/me", headers={"X-API-Key": str(created["key"])}), 401
    )
    assert (
        await client.get("/api/v1/auth/me", headers={"X-API-Key": new_secret})
    ).status_code == 200


async def test_another_users_key_is_404_like_a_missing_one(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await login(client, await create_user(db))
    intruder = await login(client, await create_user(db))
    key = await create_key(client, owner)
    theirs = await client.delete(f"/api/v1/api-keys/{key['id']}", headers=bearer(intruder))
    missing = await client.delete("/api/v1/api-keys/999999", headers=bearer(intruder))
    assert_problem(theirs, 404)
    assert_problem(missing, 404)
    assert {k: v for k, v in theirs.json().items() if k not in ("request_id", "instance")} == {
        k: v for k, v in missing.json().items() if k not in ("request_id", "instance")
    }
    rotate = await client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=bearer(intruder))
    assert_problem(rotate, 404)
    assert (
        await client.get("/api/v1/auth/me", headers={"X-API-Key": str(key["key"])})
    ).status_code == 200


async def test_an_api_key_cannot_mint_keys(client: httpx.AsyncClient, db: Database) -> None:
    tokens = await login(client, await create_user(db))
    key = str((await create_key(client, tokens))["key"])
    response = await client.post(
        "/api/v1/api-keys", json={"name": "child"}, headers={"X-API-Key": key}
    )
    assert_problem(response, 403)


async def test_key_of_a_demoted_owner_loses_scopes(client: httpx.AsyncClient, db: Database) -> None:
    admin = await login(client, await create_user(db, Role.ADMIN))
    account = await create_user(db, Role.PREMIUM)
    key = str((await create_key(client, await login(client, account)))["key"])
    demoted = await client.patch(
        f"/api/v1/admin/users/{account.id}/role", json={"role": "user"}, headers=bearer(admin)
    )
    assert demoted.status_code == 200
    scopes = (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).json()["scopes"]
    assert "read:premium" not in scopes and "read:tickers" in scopes


async def _api_key_statements(db: Database, client: httpx.AsyncClient, key: str) -> list[str]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        response = await client.get("/api/v1/auth/me", headers={"X-API-Key": key})
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    return [s for s in statements if "api_keys" in s]


async def test_a_recently_verified_key_is_served_from_the_key_cache(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    secret = str((await create_key(client, tokens))["key"])
    assert await _api_key_statements(db, client, secret)  # first use: read from the database
    assert not await _api_key_statements(db, client, secret)  # then: from memory


async def test_concurrent_requests_with_an_uncached_key_read_it_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    secret = str((await create_key(client, tokens))["key"])
    api_key_cache.clear()
    lookups: list[str] = []

    def count(*args: object) -> None:
        if "FROM api_keys" in str(args[2]) and "WHERE api_keys.key_hash" in str(args[2]):
            lookups.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        answers = await asyncio.gather(
            *(client.get("/api/v1/auth/me", headers={"X-API-Key": secret}) for _ in range(20))
        )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert [a.status_code for a in answers] == [200] * 20
    assert len(lookups) == 1  # one verification shared by all twenty


async def test_revoking_a_cached_key_stops_it_at_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    created = await create_key(client, tokens)
    headers = {"X-API-Key": str(created["key"])}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    await client.delete(f"/api/v1/api-keys/{created['id']}", headers=bearer(tokens))
    assert_problem(await client.get("/api/v1/auth/me", headers=headers), 401)


async def test_rotating_a_cached_key_stops_the_old_secret_at_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    tokens = await login(client, await create_user(db))
    created = await create_key(client, tokens)
    headers = {"X-API-Key": str(created["key"])}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    rotated = await client.post(f"/api/v1/api-keys/{created['id']}/rotate", headers=bearer(tokens))
    assert rotated.status_code == 200, rotated.text
    assert_problem(await client.get("/api/v1/auth/me", headers=headers), 401)


async def test_demoting_or_deactivating_the_owner_applies_to_cached_keys_at_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = await login(client, await create_user(db, Role.ADMIN))
    owner = await create_user(db, Role.PREMIUM)
    created = await create_key(client, await login(client, owner))
    headers = {"X-API-Key": str(created["key"])}
    before = await client.get("/api/v1/auth/me", headers=headers)
    assert "read:premium" in before.json()["scopes"]
    demoted = await client.patch(
        f"/api/v1/admin/users/{owner.id}/role", json={"role": "user"}, headers=bearer(admin)
    )
    assert demoted.status_code == 200, demoted.text
    after = await client.get("/api/v1/auth/me", headers=headers)
    assert "read:premium" not in after.json()["scopes"]
    deactivated = await client.post(
        f"/api/v1/admin/users/{owner.id}/deactivate", headers=bearer(admin)
    )
    assert deactivated.status_code == 200, deactivated.text
    assert_problem(await client.get("/api/v1/auth/me", headers=headers), 401)


async def test_key_cache_can_be_turned_off(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    settings.api_key_cache_seconds = 0
    tokens = await login(client, await create_user(db))
    secret = str((await create_key(client, tokens))["key"])
    assert await _api_key_statements(db, client, secret)
    assert await _api_key_statements(db, client, secret)
