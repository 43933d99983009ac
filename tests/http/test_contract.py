"""The API as its OpenAPI document describes it: schemathesis with every check, as three
callers, and the document's own promises (problem responses, optional auth, list envelopes,
`Allow`).

Schemathesis runs in process over ASGI, bounded (a few derandomized examples per operation,
no stateful phase) so the three runs stay around a minute on two cores. Nothing is excluded;
the one relaxation (422 accepted as a positive-data answer where validity cannot be said in
JSON Schema) is explained in tests/support/contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support.contract import Callers, contract_app, run_schemathesis

MAX_EXAMPLES = 5


@pytest.fixture(scope="module")
def contract(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[FastAPI, Callers]:
    return contract_app(sqlite_template, tmp_path_factory.mktemp("contract"))


@pytest.mark.parametrize("caller", ["anonymous", "user", "admin"])
def test_schemathesis_finds_no_failures(contract: tuple[FastAPI, Callers], caller: str) -> None:
    app, callers = contract
    failures, errors, tested = run_schemathesis(
        app, callers.headers[caller], max_examples=MAX_EXAMPLES
    )
    assert tested >= 50
    assert errors == []
    assert failures == [], "\n".join(
        f"{f.operation} | {f.check} | {f.title} | {f.request}" for f in failures[:30]
    )


def schema_of(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema_of(app)["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def test_every_api_operation_declares_its_problems(app: FastAPI) -> None:
    schema = schema_of(app)
    assert "Problem" in schema["components"]["schemas"]
    for path, method, operation in operations(app):
        responses = operation["responses"]
        assert "default" in responses, (method, path)
        if not path.startswith("/api/v1"):
            continue
        expected = {"401", "403", "429"}
        if operation.get("parameters") or operation.get("requestBody"):
            expected.add("422")
        if "{" in path:
            expected.add("404")
        if method in ("post", "patch", "put", "delete"):
            expected.add("409")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            content = responses[status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            ref = content["application/problem+json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Problem"


def test_guest_readable_operations_are_not_marked_secured(app: FastAPI) -> None:
    security = {(m, p): op.get("security", []) for p, m, op in operations(app)}
    for path in ("/api/v1/quotes/{symbol}", "/api/v1/bars/{symbol}", "/api/v1/instruments"):
        assert {} in security[("get", path)], path
    assert {} not in security[("get", "/api/v1/auth/me")]
    assert {} not in security[("get", "/api/v1/admin/users")]


def test_every_list_response_is_the_envelope(app: FastAPI) -> None:
    """A 200 JSON answer is never a bare array, never an untyped object, and a `data` array
    comes with `meta.count` and `meta.next_cursor` (or, for bars, its own documented meta)."""
    schema = schema_of(app)
    offenders = []
    for path, method, operation in operations(app):
        if not path.startswith("/api/v1") or method != "get":
            continue
        content = operation["responses"].get("200", {}).get("content", {})
        body = content.get("application/json", {}).get("schema")
        if body is None:
            continue
        node = resolve(schema, body)
        if node == {}:
            continue  # a hand-serialized answer documented in prose (indicator columns)
        if node.get("type") == "array" or "properties" not in node:
            offenders.append(f"{path}: {node.get('type')} without properties")
            continue
        data = node["properties"].get("data")
        if data is not None and resolve(schema, data).get("type") == "array":
            meta = resolve(schema, node["properties"].get("meta", {}))
            needed = {"count"}
            if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
                needed.add("next_cursor")
            if not needed <= set(meta.get("properties", {})):
                offenders.append(f"{path}: a list without meta {sorted(needed)}")
    assert offenders == []


async def test_options_answers_allow_with_every_method_of_the_path(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/api/v1/admin/cache")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, DELETE, OPTIONS"
    sweep = await client.options("/api/v1/backtests/sweep")
    assert sweep.headers["allow"] == "POST, OPTIONS"  # not /backtests/{run_id}'s GET
    refused = await client.put("/api/v1/admin/cache")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, DELETE, OPTIONS"
    assert (await client.options("/api/v1/nowhere")).status_code == 404
