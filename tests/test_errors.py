"""Every error is RFC 9457 problem+json with a request id; nothing internal leaks."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from quantdesk.dependencies import SessionDep
from quantdesk.errors import Conflict
from tests.support.problems import assert_problem


@pytest.fixture
def broken_routes(app: FastAPI) -> None:
    async def explode(session: SessionDep) -> None:
        await session.execute(text("SELECT * FROM no_such_table WHERE secret = 'hunter2'"))

    async def conflict() -> None:
        raise Conflict("already exists")

    app.add_api_route("/test/explode", explode)
    app.add_api_route("/test/conflict", conflict)


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/nowhere"), 404)
    assert body["title"] == "Not Found"
    assert body["instance"] == "/api/v1/nowhere"


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/instruments")
    body = assert_problem(response, 405)
    assert "DELETE" in str(body["detail"])
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"  # every method the path answers


async def test_validation_error_is_422_problem_with_field_errors(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/api/v1/instruments?limit=abc"), 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    (error,) = errors
    assert error["loc"] == ["query", "limit"] and error["field"] == "query.limit" and error["msg"]


@pytest.mark.usefixtures("broken_routes")
async def test_unhandled_error_is_500_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/test/explode", headers={"X-Request-ID": "trace-500"})
    body = assert_problem(response, 500)
    assert body["request_id"] == "trace-500"
    for leak in ("no_such_table", "SELECT", "Traceback", "hunter2", "sqlalchemy"):
        assert leak not in response.text


@pytest.mark.usefixtures("broken_routes")
async def test_app_errors_carry_their_status_and_code(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/test/conflict"), 409)
    assert body["type"] == "https://quantdesk.dev/problems/conflict"
    assert body["detail"] == "already exists"


async def test_request_id_is_accepted_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health/live")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await client.get("/health/live", headers={"X-Request-ID": "x" * 300})
    assert hostile.headers["x-request-id"] != "x" * 300
