"""Problem+json responses for middleware (which runs outside FastAPI's exception handlers) and
the `errors[]` of a request FastAPI could not validate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def validation_errors(raw: Sequence[Any], body: Any = None) -> list[dict[str, Any]]:
    """FastAPI's validation errors as `errors[]` entries (`loc`, `field`, `msg`, `type`).

    Malformed JSON is located by line and column in the text sent (`Invalid JSON at line 1,
    column 44: Expecting ','`), not by FastAPI's `body.<character offset>`.
    """
    found = []
    for error in raw:
        kind = str(error.get("type", "value_error"))
        loc = [str(part) for part in error.get("loc", ())]
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        if kind == "json_invalid" and loc[:1] == ["body"]:
            loc = ["body"]
            message = _json_message(error, body)
        found.append({"loc": loc, "field": ".".join(loc), "msg": message, "type": kind})
    return found


def _json_message(error: Mapping[str, Any], document: Any) -> str:
    reason = str((error.get("ctx") or {}).get("error", "malformed JSON"))
    position = error.get("loc", (None, None))[-1]
    if not isinstance(document, str) or not isinstance(position, int):
        return f"Invalid JSON: {reason}"
    line = document.count("\n", 0, position) + 1
    column = position - document.rfind("\n", 0, position)
    return f"Invalid JSON at line {line}, column {column}: {reason}"
