"""Errors carry their HTTP status; one renderer turns every error into RFC 9457 problem+json.

Code below the endpoints raises `AppError` subclasses and never imports FastAPI. The handlers
registered in `install_error_handlers` cover app errors, request validation, Starlette's own
404/405, and (in the edge middleware, http/edge.py) anything unhandled, so no response ever carries
a traceback or SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import orjson
from starlette.responses import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://quantdesk.dev/problems/"


class AppError(Exception):
    status: int = 500
    code: str = "internal-error"
    title: str = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors) if errors else None
        self.headers = headers or {}
        # A refusal that must still be recorded (failed-login audit row, a session revoked
        # for refresh-token reuse): the unit of work commits before the error is answered.
        self.keep_changes = keep_changes


class BadRequest(AppError):
    status, code, title = 400, "bad-request", "Bad Request"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Unauthorized"

    def __init__(
        self, detail: str = "authentication required", *, keep_changes: bool = False
    ) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, keep_changes=keep_changes)


class Forbidden(AppError):
    status, code, title = 403, "insufficient-scope", "Forbidden"


class NotFound(AppError):
    status, code, title = 404, "not-found", "Not Found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(AppError):
    status, code, title = 422, "validation-error", "Unprocessable Content"


class ServiceUnavailable(AppError):
    status, code, title = 503, "service-unavailable", "Service Unavailable"


def field_error(
    loc: Sequence[str | int], message: str, *, kind: str = "value_error"
) -> dict[str, Any]:
    """One entry of a problem's `errors[]`: where (`loc`, as in FastAPI), what, and a type."""
    return {
        "loc": list(loc),
        "field": ".".join(str(part) for part in loc),
        "msg": message,
        "type": kind,
    }


def problem_body(
    *,
    status: int,
    code: str,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    request_id: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail or title or HTTPStatus(status).phrase,
        "instance": instance,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = list(errors)
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        content=orjson.dumps(body),
        status_code=int(body["status"]),
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )
