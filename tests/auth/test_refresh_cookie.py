"""The browser session: `?refresh_cookie=true` keeps the refresh token in an httpOnly cookie
scoped to the auth routes, rotated on every refresh, cleared on logout, never in the body."""

from __future__ import annotations

import httpx

from quantdesk.auth.cookie import REFRESH_COOKIE
from quantdesk.db import Database
from tests.support.accounts import create_user
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember

JSON = {"Content-Type": "application/json"}


def cookie_header(response: httpx.Response) -> str:
    values = [v for v in response.headers.get_list("set-cookie") if v.startswith(REFRESH_COOKIE)]
    assert len(values) == 1, response.headers
    return values[0]


def cookie_value(response: httpx.Response) -> str:
    value = cookie_header(response).split(";", 1)[0].split("=", 1)[1]
    remember(value)
    return value


async def cookie_login(client: httpx.AsyncClient, db: Database) -> httpx.Response:
    account = await create_user(db)
    response = await client.post(
        "/api/v1/auth/login",
        params={"refresh_cookie": "true"},
        json={"email": account.email, "password": account.password},
    )
    assert response.status_code == 200, response.text
    remember(response.json()["access_token"])
    return response


async def test_login_sets_an_http_only_strict_cookie_and_no_body_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await cookie_login(client, db)
    assert response.json()["refresh_token"] is None
    header = cookie_header(response).lower()
    assert "httponly" in header and "samesite=strict" in header
    assert "path=/api/v1/auth" in header
    assert "secure" not in header  # development over plain HTTP; production adds Secure
    assert cookie_value(response) not in response.text


async def test_an_empty_json_refresh_rotates_the_cookie(
    client: httpx.AsyncClient, db: Database
) -> None:
    first = cookie_value(await cookie_login(client, db))
    refreshed = await client.post("/api/v1/auth/refresh", json={})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] is None
    remember(refreshed.json()["access_token"])
    second = cookie_value(refreshed)
    assert second != first
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert me.status_code == 200

    # The first cookie was used: replaying it revokes the session (as with a body token).
    client.cookies.set(REFRESH_COOKIE, first, path="/api/v1/auth")
    replayed = await client.post("/api/v1/auth/refresh", json={})
    assert_problem(replayed, 401)


async def test_the_cookie_is_ignored_without_a_json_content_type(
    client: httpx.AsyncClient, db: Database
) -> None:
    await cookie_login(client, db)
    # What a cross-site form could send: no JSON content type, so the cookie does not count.
    form = await client.post("/api/v1/auth/refresh", data={"refresh_token": "x"})
    assert_problem(form, 422)  # a form is not the JSON body either
    plain = await client.post(
        "/api/v1/auth/refresh", content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415, plain.text
    client.cookies.clear()
    missing = await client.post("/api/v1/auth/refresh", json={}, headers=JSON)
    assert_problem(missing, 401)
    assert "qd_refresh" in missing.json()["detail"]


async def test_a_body_token_still_comes_back_in_the_body(
    client: httpx.AsyncClient, db: Database
) -> None:
    account = await create_user(db)
    pair = (
        await client.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
    ).json()
    remember(pair["access_token"], pair["refresh_token"])
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] and "set-cookie" not in refreshed.headers
    remember(refreshed.json()["access_token"], refreshed.json()["refresh_token"])


async def test_logout_clears_the_cookie(client: httpx.AsyncClient, db: Database) -> None:
    login = await cookie_login(client, db)
    cookie_value(login)
    out = await client.post(
        "/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    )
    assert out.status_code == 204
    header = cookie_header(out).lower()
    assert "max-age=0" in header and "path=/api/v1/auth" in header
    assert (await client.post("/api/v1/auth/refresh", json={})).status_code == 401
