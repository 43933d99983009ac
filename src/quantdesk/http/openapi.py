"""The error half of the OpenAPI document: every operation declares the problems it can answer.

FastAPI documents only the success response and a 422 `HTTPValidationError` that the app never
sends (its 422s are problem+json). Here, after the document is generated, each operation gets:

* `401` (credentials sent but missing, invalid or expired) and `403` (a scope the caller
  lacks, or a blocked client IP) on every `/api/v1` operation: credentials are checked
  wherever they are sent, and the IP gate runs before routing;
* `429` (rate limited, with `Retry-After`) on every `/api/v1` operation;
* `422` where there is anything to validate (parameters or a body), `404` where the path
  names a resource, `409` on state-changing operations and on backtest results (a run not
  finished yet), `406` where more than one media type is offered;
* `default`: any other problem (400, 413, 415, 500, 503) in the same shape;

all as `application/problem+json` with one shared `Problem` schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from quantdesk.errors import PROBLEM_CONTENT_TYPE

API_PREFIX = "/api/v1"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details, as every error is answered.",
        "type": "object",
        "required": ["type", "title", "status", "detail", "instance", "request_id"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": ["string", "null"]},
            "request_id": {"type": ["string", "null"]},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemError"}},
        },
    },
    "ProblemError": {
        "title": "ProblemError",
        "description": "One invalid input: where (`loc`, `field`), what (`msg`) and its kind.",
        "type": "object",
        "required": ["loc", "field", "msg", "type"],
        "properties": {
            "loc": {"type": "array", "items": {"type": "string"}},
            "field": {"type": "string"},
            "msg": {"type": "string"},
            "type": {"type": "string"},
        },
    },
}

DESCRIPTIONS = {
    "401": "Credentials were sent but are missing, malformed, invalid, expired or revoked",
    "403": "The caller lacks the scope this operation needs, or the client IP is blocked",
    "404": "The resource named in the path does not exist (or is not the caller's)",
    "406": "None of the media types offered is acceptable (the Accept header)",
    "409": "The request conflicts with the resource's current state",
    "422": "The request is not valid: `errors[]` names each field and what is wrong with it",
    "429": "Rate limited: retry after `Retry-After` seconds",
    "default": "Any other problem (400, 413, 415, 500, 503), in the same shape",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def problem_response(status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}},
    }
    if status == "429":
        response["headers"] = RETRY_AFTER
    return response


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["default"]
    if not path.startswith(API_PREFIX):
        return statuses
    statuses += ["401", "403", "429"]
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append("422")
    if "{" in path:
        statuses.append("404")
    if method != "get" or "/backtests/{" in path:
        statuses.append("409")
    ok = operation.get("responses", {}).get("200", {}).get("content", {})
    if len(ok) > 1:
        statuses.append("406")
    return statuses


def annotate_problems(schema: dict[str, Any]) -> None:
    """Add the problem responses and schemas to a generated document, in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(PROBLEM_SCHEMAS)
    # FastAPI's own 422 shape is never sent.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in _statuses(path, method, operation):
                if status == "422" or status not in responses:
                    responses[status] = problem_response(status)
                else:  # an operation's own description wins; the content is the problem
                    responses[status]["content"] = {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}


def document_problems(app: FastAPI) -> None:
    """Call once, after every router is included (wraps `app.openapi`, cached like it)."""
    generate = app.openapi
    last: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not last or last[0] is not schema:
            annotate_problems(schema)
            last[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
