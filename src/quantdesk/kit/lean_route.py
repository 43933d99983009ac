"""LeanRoute: an APIRoute that serves simple routes without FastAPI's generic request solver.

Per request, FastAPI's handler walks the route's dependency tree (`solve_dependencies`) and
re-derives, for every parameter, facts that were fixed when the route was declared (is it a
sequence, a model, which aliases), and opens two AsyncExitStacks and a sub-response for
features a simple route does not use. On the quote read that was about a third of the app's
time per request. A lean route works that out once, when the route is built, and per request
only runs its dependencies, validates its parameters and calls the endpoint.

A route is lean when everything it needs is known up front (`plan_for`):

* the endpoint is `async def` and annotated to return a `Response`;
* its parameters are the `Request` and scalar path or query parameters (str, int, float, bool,
  an Enum, or an optional of one), without validation aliases;
* its dependencies are `async def` functions taking nothing or only the `Request`, without
  `yield` or sub-dependencies (the policy dependencies of `quantdesk.auth.dependencies`);
* no body, header, cookie, `Response`, `BackgroundTasks` or security-scope parameters, and no
  route-level body limit.

Every other route keeps FastAPI's own handler. A lean route also hands the request to that
handler when dependency overrides are set (tests) or OpenTelemetry instrumentation is active
for the request, so both behave exactly as FastAPI documents. The OpenAPI document is built
from `route.dependant`, which this does not change. Results are the same as FastAPI's: the
same dependency order and per-request caching, the same validators (each parameter's own
`ModelField`) and the same `RequestValidationError` for a bad parameter.
"""

from __future__ import annotations

import copy
import enum
import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.telemetry import get_telemetry_data
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

_SCALARS: tuple[type, ...] = (str, int, float, bool)
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    alias: str
    field: Any  # fastapi's ModelField: validate(), default, field_info
    loc: tuple[str, str]
    required: bool
    validate_default: bool

    def resolve(self, raw: Any, errors: list[Any]) -> Any:
        """The validated value, or _MISSING with the errors appended (FastAPI's rules)."""
        if raw is None:
            if self.required:
                errors.append(_missing_error(self.loc))
                return _MISSING
            value = copy.deepcopy(self.field.default)
            if not self.validate_default:
                return value
            raw = value
        value, field_errors = self.field.validate(raw, {}, loc=self.loc)
        if field_errors:
            errors.extend(field_errors)
            return _MISSING
        return value


@dataclass(frozen=True, slots=True)
class _Dependency:
    call: Callable[..., Awaitable[Any]]
    name: str | None  # the endpoint parameter it fills, if any
    takes_request: bool
    use_cache: bool


@dataclass(frozen=True, slots=True)
class LeanPlan:
    """What a lean route does per request, worked out when the route is built."""

    endpoint: Callable[..., Awaitable[Any]]
    dependencies: tuple[_Dependency, ...]
    path_parameters: tuple[_Parameter, ...]
    query_parameters: tuple[_Parameter, ...]
    request_name: str | None

    async def respond(self, request: Request) -> Response:
        values: dict[str, Any] = {}
        solved: dict[Callable[..., Any], Any] = {}
        for dependency in self.dependencies:
            if dependency.use_cache and dependency.call in solved:
                value = solved[dependency.call]
            else:
                value = await (
                    dependency.call(request) if dependency.takes_request else dependency.call()
                )
                solved.setdefault(dependency.call, value)
            if dependency.name is not None:
                values[dependency.name] = value
        errors: list[Any] = []
        if self.path_parameters:
            path_params = request.scope.get("path_params", {})
            for parameter in self.path_parameters:
                values[parameter.name] = parameter.resolve(path_params.get(parameter.alias), errors)
        if self.query_parameters:
            query = request.query_params
            for parameter in self.query_parameters:
                values[parameter.name] = parameter.resolve(query.get(parameter.alias), errors)
        if errors:
            raise RequestValidationError(errors)
        if self.request_name is not None:
            values[self.request_name] = request
        response = await self.endpoint(**values)
        if not isinstance(response, Response):
            raise TypeError(f"{self.endpoint.__qualname__} must return a Response")
        return response


def _missing_error(loc: tuple[str, str]) -> Any:
    # The error FastAPI reports for a required parameter that is absent.
    error = ValidationError.from_exception_data(
        "Field required", [{"type": "missing", "loc": loc, "input": {}}]
    ).errors(include_url=False)[0]
    error["input"] = None
    return error


def _is_scalar(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, (*_SCALARS, enum.Enum))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return len(members) == 1 and _is_scalar(members[0])
    return False


def _parameters(fields: list[Any], location: str) -> tuple[_Parameter, ...] | None:
    parameters = []
    for field in fields:
        info = field.field_info
        if info.validation_alias is not None or not _is_scalar(info.annotation):
            return None
        parameters.append(
            _Parameter(
                name=field.name,
                alias=field.alias,
                field=field,
                loc=(location, field.alias),
                required=info.is_required(),
                validate_default=bool(info.validate_default),
            )
        )
    return tuple(parameters)


def _has_only(dependant: Dependant, *allowed: str) -> bool:
    """True when the dependant uses none of FastAPI's per-request features but `allowed`."""
    features = {
        "path_params": bool(dependant.path_params),
        "query_params": bool(dependant.query_params),
        "header_params": bool(dependant.header_params),
        "cookie_params": bool(dependant.cookie_params),
        "body_params": bool(dependant.body_params),
        "dependencies": bool(dependant.dependencies),
        "request": dependant.request_param_name is not None,
        "websocket": dependant.websocket_param_name is not None,
        "http_connection": dependant.http_connection_param_name is not None,
        "response": dependant.response_param_name is not None,
        "background_tasks": dependant.background_tasks_param_name is not None,
        "security_scopes": dependant.security_scopes_param_name is not None,
        "oauth_scopes": bool(dependant.own_oauth_scopes or dependant.parent_oauth_scopes),
    }
    return not any(used for feature, used in features.items() if feature not in allowed)


def _dependency(dependant: Dependant) -> _Dependency | None:
    call = dependant.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or getattr(dependant, "concurrency", None) is not None
        or getattr(dependant, "scope", None) is not None
        or not _has_only(dependant, "request")
    ):
        return None
    return _Dependency(
        call=call,
        name=dependant.name,
        takes_request=dependant.request_param_name is not None,
        use_cache=dependant.use_cache,
    )


def plan_for(route: APIRoute) -> LeanPlan | None:
    """The lean plan of `route`, or None when it needs FastAPI's full handler."""
    dependant = route.dependant
    endpoint = route.endpoint
    if not inspect.iscoroutinefunction(endpoint) or route.body_field is not None:
        return None
    if route.max_body_size is not None or getattr(route, "is_json_stream", False):
        return None
    try:
        returns = typing.get_type_hints(endpoint).get("return")
    except (NameError, TypeError):  # an annotation that does not resolve at runtime
        return None
    if not (isinstance(returns, type) and issubclass(returns, Response)):
        return None
    if not _has_only(dependant, "path_params", "query_params", "dependencies", "request"):
        return None
    dependencies = [_dependency(sub) for sub in dependant.dependencies]
    path_parameters = _parameters(dependant.path_params, "path")
    query_parameters = _parameters(dependant.query_params, "query")
    if path_parameters is None or query_parameters is None or None in dependencies:
        return None
    return LeanPlan(
        endpoint=endpoint,
        dependencies=tuple(d for d in dependencies if d is not None),
        path_parameters=path_parameters,
        query_parameters=query_parameters,
        request_name=dependant.request_param_name,
    )


class LeanRoute(APIRoute):
    """An APIRoute served by its LeanPlan when it has one (see the module docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.lean_plan = plan_for(self)
        if self.lean_plan is not None:
            self.app = self._lean_app(self.lean_plan, self.app)

    def _lean_app(self, plan: LeanPlan, fastapi_app: ASGIApp) -> ASGIApp:
        overrides_from = self.dependency_overrides_provider

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if (
                overrides_from is not None and overrides_from.dependency_overrides
            ) or get_telemetry_data() is not None:
                await fastapi_app(scope, receive, send)
                return
            response = await plan.respond(Request(scope, receive, send))
            await response(scope, receive, send)

        return app
