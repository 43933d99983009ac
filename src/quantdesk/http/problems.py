"""Problem+json responses for middleware, which runs outside FastAPI's exception handlers."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from quantdesk.errors import problem_body, problem_response


def scope_problem(
    scope: Scope,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The app's problem+json for `scope`, naming the id the edge bound."""
    request_id = (scope.get("state") or {}).get("request_id")
    body = problem_body(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=scope.get("path"),
        request_id=request_id if isinstance(request_id, str) else None,
        errors=errors,
    )
    return problem_response(body, headers)
