"""Every route declares the scope it needs or that it is public; roles gate admin routes."""

from __future__ import annotations

from itertools import pairwise

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from quantdesk.access.scopes import ROLE_SCOPES, Role, Scope
from quantdesk.auth.dependencies import route_policy
from quantdesk.db import Database
from quantdesk.ratelimit import limited_routes
from tests.support.accounts import bearer, create_user, login
from tests.support.problems import assert_problem

# Framework pages (OpenAPI document and the docs UI) are public by construction.
FRAMEWORK_ROUTES = {
    "/openapi.json",
    "/docs",
    "/docs/swagger-init.js",
    "/docs/static",
    "/redoc",
}


def undeclared_routes(app: FastAPI) -> tuple[int, list[str]]:
    undeclared = []
    seen = 0
    # iter_route_contexts flattens included routers with their effective (combined) settings.
    for context in iter_route_contexts(app.routes):
        seen += 1
        if isinstance(context.original_route, APIRoute):
            if route_policy(context.dependant.dependencies) is None:
                undeclared.append(f"{sorted(context.methods or [])} {context.path}")
        elif isinstance(context.original_route, APIWebSocketRoute):
            # WebSocket streams authenticate inside the connection (quantdesk.realtime).
            if not getattr(context.original_route.endpoint, "__quantdesk_scope__", None):
                undeclared.append(f"WebSocket route {context.path}")
        elif context.path not in FRAMEWORK_ROUTES:
            undeclared.append(f"non-API route {context.path}")
    return seen, undeclared


def test_every_route_declares_a_scope_or_public(app: FastAPI) -> None:
    seen, undeclared = undeclared_routes(app)
    assert seen > 25
    assert undeclared == []


def test_every_api_route_counts_against_the_callers_tier(app: FastAPI) -> None:
    # No router-wide rate_limit(): the policy dependency each route declares counts the tier.
    limited = {(route.path, method) for route in limited_routes(app) for method in route.methods}
    api_routes = {
        (context.path, method)
        for context in iter_route_contexts(app.routes)
        if (context.path or "").startswith("/api/v1/")
        for method in context.methods or ()
    }
    assert len(api_routes) > 25
    assert api_routes - limited == set()
    # ... and the operational routes are never limited (probes and scrapers call all day).
    assert not {path for path, _ in limited if path.startswith(("/health", "/metrics"))}


def test_an_undeclared_route_is_caught(app: FastAPI) -> None:
    async def sneaky() -> dict[str, str]:
        return {}

    app.add_api_route("/api/v1/sneaky", sneaky)
    assert undeclared_routes(app)[1] == ["['GET'] /api/v1/sneaky"]


def test_roles_are_ordered_levels() -> None:
    levels = [ROLE_SCOPES[role] for role in Role]
    assert all(lower < higher for lower, higher in pairwise(levels))
    assert ROLE_SCOPES[Role.GUEST] == {Scope.READ_TICKERS}
    assert ROLE_SCOPES[Role.ADMIN] == set(Scope)


async def test_admin_routes_by_role(client: httpx.AsyncClient, db: Database) -> None:
    assert_problem(await client.get("/api/v1/admin/users"), 401)
    user = await login(client, await create_user(db, Role.ANALYST))
    body = assert_problem(await client.get("/api/v1/admin/users", headers=bearer(user)), 403)
    assert "manage:users" in str(body["detail"])
    admin = await login(client, await create_user(db, Role.ADMIN))
    listed = await client.get("/api/v1/admin/users?limit=1", headers=bearer(admin))
    assert listed.status_code == 200 and listed.json()["meta"]["next_cursor"]
    keys = await client.get("/api/v1/admin/api-keys", headers=bearer(admin))
    assert keys.status_code == 200


async def test_anonymous_guests_read_market_data(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/instruments")).status_code == 200


async def test_role_change_applies_to_live_tokens(client: httpx.AsyncClient, db: Database) -> None:
    admin = await login(client, await create_user(db, Role.ADMIN))
    account = await create_user(db, Role.USER)
    tokens = await login(client, account)
    promoted = await client.patch(
        f"/api/v1/admin/users/{account.id}/role", json={"role": "admin"}, headers=bearer(admin)
    )
    assert promoted.json()["role"] == "admin"
    # The old token carries user scopes only: promotion takes effect at the next login...
    assert (await client.get("/api/v1/admin/users", headers=bearer(tokens))).status_code == 403
    demoted = await client.patch(
        f"/api/v1/admin/users/{account.id}/role", json={"role": "guest"}, headers=bearer(admin)
    )
    assert demoted.status_code == 200
    # ...while a demotion narrows every live token at once.
    me = (await client.get("/api/v1/auth/me", headers=bearer(tokens))).json()
    assert me["scopes"] == ["read:tickers"]


async def test_admin_cannot_lock_themselves_out(client: httpx.AsyncClient, db: Database) -> None:
    account = await create_user(db, Role.ADMIN)
    admin = await login(client, account)
    assert_problem(
        await client.post(f"/api/v1/admin/users/{account.id}/deactivate", headers=bearer(admin)),
        409,
    )
    assert_problem(
        await client.patch(
            f"/api/v1/admin/users/{account.id}/role", json={"role": "user"}, headers=bearer(admin)
        ),
        409,
    )


async def test_openapi_declares_both_schemes_on_protected_operations_only(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["type"] == "oauth2"
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == (
        "/api/v1/auth/login"
    )
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    quote = schema["paths"]["/api/v1/quotes/{symbol}"]["get"]
    assert {"APIKeyHeader": []} in quote["security"]
    assert {"OAuth2PasswordBearer": []} in quote["security"]
    assert "security" not in schema["paths"]["/api/v1/auth/register"]["post"]
