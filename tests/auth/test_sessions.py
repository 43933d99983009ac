"""Register, login, refresh (rotation and reuse detection), logout, me, password rules."""

from __future__ import annotations

import httpx
import pytest

from quantdesk.db import Database
from tests.support.accounts import bearer, create_user, login, new_password
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember


async def test_register_then_login_then_me(client: httpx.AsyncClient) -> None:
    password = new_password()
    created = await client.post(
        "/api/v1/auth/register", json={"email": "Ann@Example.com", "password": password}
    )
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "ann@example.com" and created.json()["role"] == "user"
    assert "password" not in created.text and password not in created.text

    tokens = (
        await client.post(
            "/api/v1/auth/login", json={"email": "ANN@example.com", "password": password}
        )
    ).json()
    remember(tokens["access_token"], tokens["refresh_token"])
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = (await client.get("/api/v1/auth/me", headers=bearer(tokens))).json()
    assert me["email"] == "ann@example.com"
    assert "run:backtest" in me["scopes"] and "manage:users" not in me["scopes"]


async def test_login_accepts_the_oauth2_password_form(
    client: httpx.AsyncClient, db: Database
) -> None:
    account = await create_user(db)
    response = await client.post(
        "/api/v1/auth/login", data={"username": account.email, "password": account.password}
    )
    assert response.status_code == 200
    remember(response.json()["access_token"], response.json()["refresh_token"])


async def test_duplicate_email_is_409(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db)
    response = await client.post(
        "/api/v1/auth/register", json={"email": account.email.upper(), "password": new_password()}
    )
    assert_problem(response, 409)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-1A", "too_short"),
        ("x" * 129 + "A1", "too_long"),
        ("x" * 1024, "too_long"),
        ("password1234", "common"),
        ("aaaaaaaaaaaaaaaa", "common"),
    ],
)
async def test_weak_passwords_are_422_naming_the_rule(
    client: httpx.AsyncClient, password: str, rule: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": "w@example.com", "password": password}
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["type"] == rule  # type: ignore[index]
    assert body["errors"][0]["loc"] == ["body", "password"]  # type: ignore[index]


async def test_password_over_the_schema_bound_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": "a@example.com", "password": "p" * 5000}
    )
    assert_problem(response, 422)


async def test_wrong_email_and_wrong_password_look_identical(
    client: httpx.AsyncClient, db: Database
) -> None:
    account = await create_user(db)
    wrong_password = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": new_password()}
    )
    unknown_email = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": new_password()}
    )
    for response in (wrong_password, unknown_email):
        assert_problem(response, 401)
    strip = ("request_id",)
    assert {k: v for k, v in wrong_password.json().items() if k not in strip} == {
        k: v for k, v in unknown_email.json().items() if k not in strip
    }


async def test_login_is_throttled_per_account(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db)
    for _ in range(5):
        assert (
            await client.post(
                "/api/v1/auth/login", json={"email": account.email, "password": new_password()}
            )
        ).status_code == 401
    blocked = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert_problem(blocked, 429)
    assert int(blocked.headers["retry-after"]) > 0


async def test_refresh_rotates_and_reuse_revokes_the_session(
    client: httpx.AsyncClient, db: Database
) -> None:
    account = await create_user(db)
    first = await login(client, account)
    second = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    remember(second["access_token"], second["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(second))).status_code == 200

    reuse = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert_problem(reuse, 401)
    # The whole family is gone: the newest refresh token and the session's access tokens too.
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    ).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=bearer(second))).status_code == 401
    # Other sessions of the same user are untouched.
    other = await login(client, account)
    assert (await client.get("/api/v1/auth/me", headers=bearer(other))).status_code == 200


async def test_logout_revokes_access_and_refresh(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db)
    tokens = await login(client, account)
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    assert_problem(await client.get("/api/v1/auth/me", headers=bearer(tokens)), 401)
    assert_problem(
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        401,
    )


async def test_change_password(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db)
    current = await login(client, account)
    elsewhere = await login(client, account)
    new = new_password()
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": new, "new_password": new},
        headers=bearer(current),
    )
    assert_problem(wrong, 401)
    weak = await client.post(
        "/api/v1/auth/password",
        json={"current_password": account.password, "new_password": "short"},
        headers=bearer(current),
    )
    assert assert_problem(weak, 422)["errors"][0]["loc"] == ["body", "new_password"]  # type: ignore[index]
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": account.password, "new_password": new},
        headers=bearer(current),
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(current))).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(elsewhere))).status_code == 401
    assert (
        await client.post("/api/v1/auth/login", json={"email": account.email, "password": new})
    ).status_code == 200


async def test_deactivated_user_is_locked_out(client: httpx.AsyncClient, db: Database) -> None:
    from quantdesk.access.scopes import Role

    admin = await login(client, await create_user(db, Role.ADMIN))
    account = await create_user(db)
    tokens = await login(client, account)
    response = await client.post(
        f"/api/v1/admin/users/{account.id}/deactivate", headers=bearer(admin)
    )
    assert response.status_code == 200 and response.json()["active"] is False
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 401
    login_again = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert_problem(login_again, 401)
