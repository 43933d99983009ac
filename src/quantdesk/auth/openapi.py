"""How to authenticate, in the OpenAPI document: both schemes and, per operation, whether
one is needed (what drives the docs page's Authorize button and padlocks).

FastAPI derives this from security dependencies (`OAuth2PasswordBearer`, `APIKeyHeader`) in
each route's tree; quantdesk reads its credentials headers itself (cheaper per request, see
`current_principal`), so the document is annotated here: every operation that is not public
accepts either scheme. An operation guests may call (market data: `read:tickers`) lists the
empty requirement too, `{}`: credentials are optional there, and tools that check that a
secured operation refuses anonymous calls must not expect a 401.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from quantdesk.access.scopes import ROLE_SCOPES, Role
from quantdesk.auth.dependencies import route_policy

BEARER = "OAuth2PasswordBearer"
API_KEY = "APIKeyHeader"
SCHEMES = {
    BEARER: OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False),
    API_KEY: APIKeyHeader(name="X-API-Key", auto_error=False),
}
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}, {API_KEY: []}]
OPTIONAL_SECURITY: list[dict[str, list[str]]] = [{}, *SECURITY]
GUEST_SCOPES = frozenset(str(scope) for scope in ROLE_SCOPES[Role.GUEST])


def _annotate(schema: dict[str, Any], app: FastAPI) -> None:
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {
        name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
        for name, scheme in SCHEMES.items()
    }
    paths = schema.get("paths", {})
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        policy = route_policy(list(route.dependant.dependencies))
        if policy in (None, "public"):
            continue
        security = OPTIONAL_SECURITY if policy in GUEST_SCOPES else SECURITY
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["security"] = security


def document_security(app: FastAPI) -> None:
    """Call once, after every router is included."""
    generate = app.openapi
    last: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not last or last[0] is not schema:
            _annotate(schema, app)
            last[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
