"""Bodies over the size limit are 413, of an unaccepted media type 415, of a forbidden shape 422."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, File, Form, Request
from pydantic import BaseModel

from quantdesk.http.edge import EdgeMiddleware
from quantdesk.http.limits import RequestLimitsMiddleware
from tests.support.http import assert_exact_problem as assert_problem
from tests.support.http import client_for

LIMIT = 1_000


class Order(BaseModel):
    symbol: str
    quantity: int


def make_app(**limits: Any) -> FastAPI:
    app = FastAPI()
    app.state.received = []  # bytes the streaming handler got, chunk by chunk
    app.state.calls = 0

    @app.post("/raw")
    @app.put("/raw")
    @app.patch("/raw")
    async def raw(request: Request) -> dict[str, object]:
        app.state.calls += 1
        body = await request.body()
        return {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        async for chunk in request.stream():
            app.state.received.append(len(chunk))
        return {"size": sum(app.state.received)}

    @app.post("/orders")
    async def orders(order: Order) -> Order:
        return order

    @app.post("/login")
    async def login(
        username: Annotated[str, Form()], password: Annotated[str, Form()]
    ) -> dict[str, str]:
        return {"username": username}

    @app.post("/upload")
    async def upload(file: Annotated[bytes, File()]) -> dict[str, int]:
        return {"size": len(file)}

    app.add_middleware(EdgeMiddleware, body_limits=limits)
    return app


@pytest.fixture
def app() -> FastAPI:
    return make_app(max_body_bytes=LIMIT)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as client:
        yield client


class Chunks:
    """A chunked request body (no Content-Length) that records how much of it was sent."""

    def __init__(self, count: int, size: int) -> None:
        self.count, self.size, self.sent = count, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.sent += 1
            yield b"x" * self.size


# ---- 413 -------------------------------------------------------------------------------------


async def test_declared_content_length_over_limit_is_413_before_the_app_runs(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post("/raw", json="x" * LIMIT)
    body = assert_problem(response, 413, "content-too-large")
    assert body["title"] == "Content Too Large"
    assert str(LIMIT) in str(body["detail"])
    assert response.headers["connection"] == "close"
    assert app.state.calls == 0


async def test_body_at_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", json="x" * (LIMIT - 2))
    assert response.status_code == 200
    assert response.json()["size"] == LIMIT


async def test_chunked_stream_over_limit_is_413_and_the_app_never_gets_it_all(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    chunks = Chunks(count=10, size=400)
    response = await client.post(
        "/stream", content=chunks, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "content-too-large")
    assert sum(app.state.received) <= LIMIT
    assert chunks.sent < chunks.count


async def test_chunked_form_over_limit_is_413_not_the_frameworks_400(
    client: httpx.AsyncClient,
) -> None:
    # FastAPI reads the form itself and would report a failed read as 400.
    chunks = Chunks(count=10, size=400)
    response = await client.post(
        "/login", content=chunks, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_problem(response, 413, "content-too-large")
    assert chunks.sent < chunks.count


async def test_chunked_json_over_limit_is_413_without_calling_the_app(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    chunks = Chunks(count=10, size=400)
    response = await client.post(
        "/raw", content=chunks, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "content-too-large")
    assert app.state.calls == 0
    assert chunks.sent < chunks.count


async def test_chunked_stream_under_limit_reaches_the_app_whole(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/stream",
        content=Chunks(count=4, size=200),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.json() == {"size": 800}


async def test_default_limit_is_one_mebibyte() -> None:
    async with client_for(make_app()) as client:
        at_limit = await client.post(
            "/raw", content=b"1" * 1_048_576, headers={"Content-Type": "application/json"}
        )
        over = await client.post(
            "/raw", content=b"1" * 1_048_577, headers={"Content-Type": "application/json"}
        )
    assert at_limit.status_code == 200
    assert_problem(over, 413, "content-too-large")


# ---- 422: JSON shape ---------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return (
        b'{"a":[' * (depth // 2)
        + b"[" * (depth % 2)
        + b"1"
        + b"]" * (depth % 2)
        + b"]}" * (depth // 2)
    )


async def test_json_nested_33_deep_is_422_naming_the_rule() -> None:
    async with client_for(make_app()) as client:
        response = await client.post(
            "/raw", content=nested(33), headers={"Content-Type": "application/json"}
        )
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [
        {
            "loc": ["body"],
            "field": "body",
            "msg": "JSON is nested deeper than 32 levels",
            "type": "max_json_depth",
        }
    ]


async def test_json_nested_32_deep_is_accepted() -> None:
    async with client_for(make_app()) as client:
        response = await client.post(
            "/raw", content=nested(32), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 200


async def test_json_array_over_the_bound_is_422_naming_the_rule() -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/raw", json={"ids": list(range(10_001))})
    body = assert_problem(response, 422, "validation-error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["type"] == "max_json_array_length"
    assert "10000" in errors[0]["msg"]


async def test_json_array_at_the_bound_is_accepted() -> None:
    async with client_for(make_app()) as client:
        response = await client.post("/raw", json={"ids": list(range(10_000))})
    assert response.status_code == 200


async def test_structured_json_suffix_types_are_shape_checked() -> None:
    async with client_for(make_app(max_json_depth=2)) as client:
        response = await client.post(
            "/raw", content=b"[[[1]]]", headers={"Content-Type": "application/merge-patch+json"}
        )
    assert_problem(response, 422, "validation-error")


async def test_valid_json_is_replayed_to_the_app_byte_for_byte(client: httpx.AsyncClient) -> None:
    body = '{"note": "caf\\u00e9 \\"[{\\" ünï", "n": [1, 2.5e3, null]}'.encode()
    response = await client.post(
        "/raw", content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


async def test_replayed_json_is_parsed_by_the_framework(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders", json={"symbol": "AAPL", "quantity": 3})
    assert response.json() == {"symbol": "AAPL", "quantity": 3}


async def test_malformed_json_is_left_to_the_framework(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders", content=b'{"symbol": [', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


# ---- 415 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_text_plain_body_is_415(method: str, client: httpx.AsyncClient) -> None:
    response = await client.request(
        method, "/raw", content=b"hello", headers={"Content-Type": "text/plain"}
    )
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "text/plain" in str(body["detail"])
    assert "application/json" in str(body["detail"])


async def test_body_without_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw", content=b'{"a": 1}')
    assert "content-type" not in response.request.headers
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "without a Content-Type" in str(body["detail"])


async def test_chunked_body_of_wrong_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/stream", content=Chunks(count=2, size=10), headers={"Content-Type": "text/csv"}
    )
    assert_problem(response, 415, "unsupported-media-type")


async def test_empty_post_needs_no_content_type(client: httpx.AsyncClient) -> None:
    response = await client.post("/raw")
    assert response.status_code == 200


async def test_oauth2_password_form_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", data={"username": "ada", "password": "secret"})
    assert response.json() == {"username": "ada"}


async def test_multipart_upload_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post("/upload", files={"file": ("a.csv", b"1,2\n")})
    assert response.json() == {"size": 4}


async def test_json_media_type_is_matched_case_insensitively(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/orders",
        content=json.dumps({"symbol": "X", "quantity": 1}).encode(),
        headers={"Content-Type": "Application/JSON; charset=UTF-8"},
    )
    assert response.status_code == 200


async def test_accepted_media_types_are_configurable() -> None:
    app = make_app(accepted_media_types=("text/*",))
    async with client_for(app) as client:
        text = await client.post("/raw", content=b"x", headers={"Content-Type": "text/csv"})
        as_json = await client.post("/raw", json={"a": 1})
    assert text.status_code == 200
    assert_problem(as_json, 415, "unsupported-media-type")


async def test_request_id_from_the_context_middleware_is_in_the_problem(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/raw", content=b"x", headers={"Content-Type": "text/plain", "X-Request-ID": "req-42"}
    )
    assert assert_problem(response, 415, "unsupported-media-type")["request_id"] == "req-42"


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestLimitsMiddleware(FastAPI(), max_json_depth=0)
