"""Bad input is a 422 problem naming the field, never a 500: unknown body fields, tampered
cursors, ids out of range, naive datetimes and malformed JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.kit.pagination import decode_cursor, encode_cursor
from quantdesk.kit.schemas import RequestModel
from tests.support.accounts import bearer, create_user, login
from tests.support.http import assert_exact_problem as assert_problem


def fields(response: httpx.Response) -> list[str]:
    return [str(error["field"]) for error in response.json().get("errors", [])]


def body_models(app: FastAPI) -> list[tuple[str, Any]]:
    from fastapi.routing import APIRoute

    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.body_field is not None:
            found.append((route.path, route.body_field.field_info.annotation))
    return found


async def test_every_request_body_forbids_unknown_fields(app: FastAPI) -> None:
    models = body_models(app)
    assert len(models) >= 10
    for path, annotation in models:
        for model in getattr(annotation, "__args__", (annotation,)):
            if model is type(None):
                continue
            assert model.model_config.get("extra") == "forbid", f"{path}: {model.__name__}"
    assert RequestModel.model_config.get("extra") == "forbid"


async def test_an_unknown_body_field_is_a_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "someone@example.com", "password": "x" * 20, "nickname": "sam"},
    )
    assert_problem(response, 422, "validation-error")
    assert fields(response) == ["body.nickname"]


def forged(key: object) -> str:
    """A cursor in the old unsigned format, carrying any key."""
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode().rstrip("=")


def cursor_routes(app: FastAPI) -> list[str]:
    schema = app.openapi()
    routes = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get and any(p["name"] == "cursor" for p in get.get("parameters", [])):
            routes.append(path)
    return routes


@pytest.mark.parametrize(
    "cursor",
    [
        forged("abc"),
        forged(2**70),
        forged(-5),
        forged(1.5),
        # A valid cursor with its signature edited; the signing key is per process, so the
        # id is fixed (pytest-xdist workers must collect the same test names).
        pytest.param(encode_cursor(12)[:-3] + "AAA", id="edited-signature"),
        "not-a-cursor!",
        "%%%",
    ],
)
async def test_a_tampered_cursor_is_a_422_on_every_paginated_route(
    app: FastAPI, client: httpx.AsyncClient, db: Database, cursor: str
) -> None:
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    routes = cursor_routes(app)
    assert len(routes) >= 10, routes
    for template in routes:
        path = template.replace("{run_id}", "1").replace("{series_id}", "GDP")
        path = path.replace("{fund_id}", "VFIAX")
        response = await client.get(path, params={"cursor": cursor}, headers=admin)
        if response.status_code == 404 and "{" in template:
            continue  # the resource in the path is looked up first
        assert response.status_code == 422, (template, response.text)
        assert "query.cursor" in fields(response), (template, response.text)


def test_issued_cursors_round_trip() -> None:
    for key in (0, 7, 2**62, "GOOG", "2024-01-31"):
        assert decode_cursor(encode_cursor(key)) == key


@pytest.mark.parametrize("key_id", ["9223372036854775808", "2147483648", "-1", "0"])
async def test_an_id_out_of_range_is_a_422_naming_the_path_parameter(
    client: httpx.AsyncClient, db: Database, key_id: str
) -> None:
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    for method, path, field in (
        ("DELETE", f"/api/v1/api-keys/{key_id}", "path.key_id"),
        ("POST", f"/api/v1/api-keys/{key_id}/rotate", "path.key_id"),
        ("POST", f"/api/v1/admin/users/{key_id}/deactivate", "path.user_id"),
        ("GET", f"/api/v1/signals/{key_id}", "path.signal_id"),
    ):
        response = await client.request(method, path, headers=admin)
        assert_problem(response, 422, "validation-error")
        assert fields(response) == [field], (path, response.text)
    response = await client.get(f"/api/v1/jobs/runs/{key_id}", headers=admin)
    if key_id.startswith(("-", "0", "9")):  # 2^31 is a valid 64-bit job-run id: 404
        assert fields(response) == ["path.run_id"]


async def test_naive_datetimes_are_a_422_naming_the_field(
    client: httpx.AsyncClient, db: Database
) -> None:
    admin = bearer(await login(client, await create_user(db, Role.ADMIN)))
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "naive", "expires_at": "2099-01-01T00:00:00"},
        headers=admin,
    )
    assert_problem(created, 422, "validation-error")
    assert fields(created) == ["body.expires_at"]
    for path, name in (
        ("/api/v1/admin/audit", "since"),
        ("/api/v1/admin/audit", "until"),
        ("/api/v1/signals", "since"),
        ("/api/v1/bars/GOOG", "start"),
        ("/api/v1/indicators/GOOG", "end"),
    ):
        params = {name: "2024-01-01T00:00:00", "set": "rsi:14"}
        response = await client.get(path, params=params, headers=admin)
        assert_problem(response, 422, "validation-error")
        assert fields(response) == [f"query.{name}"], (path, response.text)
    aware = await client.get(
        "/api/v1/admin/audit", params={"since": "2024-01-01T00:00:00+02:00"}, headers=admin
    )
    assert aware.status_code == 200, aware.text


async def test_malformed_json_names_line_and_column(client: httpx.AsyncClient) -> None:
    text = '{"email": "a@example.com" "password": "x"}'
    response = await client.post(
        "/api/v1/auth/register", content=text, headers={"Content-Type": "application/json"}
    )
    body = assert_problem(response, 422, "validation-error")
    expected = "Invalid JSON at line 1, column 27: Expecting ',' delimiter"
    assert response.json()["errors"][0]["msg"] == expected
    assert fields(response) == ["body"]
    assert expected in str(body["detail"])
    multi = '{\n  "email": "a@example.com",\n  "password": \n}'
    response = await client.post(
        "/api/v1/auth/register", content=multi, headers={"Content-Type": "application/json"}
    )
    assert response.json()["errors"][0]["msg"].startswith("Invalid JSON at line 4, column 1:")
