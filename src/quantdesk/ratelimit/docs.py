"""Put each route's rate limits into its OpenAPI description, from the one policy table.

The limits are added to the generated document (wrapping `app.openapi`), not to the route
objects: FastAPI builds included routes lazily and copies their fields, so the generated
document is the one place every route's effective dependencies are final.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from quantdesk.access.scopes import Role
from quantdesk.ratelimit.config import RateLimitConfig
from quantdesk.ratelimit.dependencies import RateLimitMarker, rate_limit_marker
from quantdesk.ratelimit.policies import describe_item

SECTION_TITLE = "**Rate limits**"

_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_HEADERS = {
    name: {"description": text, "schema": {"type": "integer"}}
    for name, text in (
        ("RateLimit-Limit", "requests allowed in the window"),
        ("RateLimit-Remaining", "requests left in the window"),
        ("RateLimit-Reset", "seconds until a request slot frees up"),
        ("X-RateLimit-Limit", "requests allowed in the window"),
        ("X-RateLimit-Remaining", "requests left in the window"),
        ("X-RateLimit-Reset", "epoch seconds when a request slot frees up"),
        ("Retry-After", "seconds to wait before retrying"),
    )
}


@dataclass(frozen=True)
class LimitedRoute:
    path: str
    methods: frozenset[str]
    # None: the role tier only; a name: the tier plus that endpoint policy.
    policies: tuple[str, ...]


def _markers(dependant: Dependant) -> Iterator[RateLimitMarker]:
    for sub in dependant.dependencies:
        marker = rate_limit_marker(sub.call)
        if marker is not None:
            yield marker
        yield from _markers(sub)


def _routes(app: FastAPI) -> Iterator[Any]:
    # FastAPI >= 0.16x keeps included routers lazy; iter_route_contexts flattens them.
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    return iter(iterate(app.routes)) if iterate is not None else iter(app.routes)


def limited_routes(app: FastAPI) -> list[LimitedRoute]:
    """Every route that runs a `rate_limit` dependency (router-level ones included)."""
    found: list[LimitedRoute] = []
    for route in _routes(app):
        dependant = getattr(route, "dependant", None)
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not isinstance(dependant, Dependant) or not isinstance(path, str):
            continue
        markers = list(dict.fromkeys(_markers(dependant)))
        if not markers:
            continue
        policies = tuple(dict.fromkeys(m.policy for m in markers if m.policy is not None))
        methods = frozenset(getattr(route, "methods", None) or ())
        found.append(LimitedRoute(path=path, methods=methods, policies=policies))
    return found


def describe_limits(config: RateLimitConfig, policies: tuple[str, ...]) -> str:
    tiers = ", ".join(
        f"{role.value} {describe_item(item) if (item := config.tiers.get(role)) else 'unlimited'}"
        for role in Role
    )
    lines = [
        f"{SECTION_TITLE} (sliding window; `RateLimit-*` and `X-RateLimit-*` headers on "
        "every limited response, 429 problem+json with `Retry-After` when exceeded):",
        "",
        f"- per API key, else user, else client IP, by role: {tiers}",
    ]
    lines.extend(f"- {config.policies[name].describe()}" for name in policies)
    return "\n".join(lines)


def _annotate(schema: dict[str, Any], routes: list[LimitedRoute], config: RateLimitConfig) -> None:
    paths: dict[str, Any] = schema.get("paths", {})
    for route in routes:
        for method in route.methods:
            operation = paths.get(route.path, {}).get(method.lower())
            if not isinstance(operation, dict):
                continue  # not in the schema (include_in_schema=False, HEAD, ...)
            description = operation.get("description") or ""
            if SECTION_TITLE not in description:
                section = describe_limits(config, route.policies)
                operation["description"] = f"{description}\n\n{section}" if description else section
            responses: dict[str, Any] = operation.setdefault("responses", {})
            responses.setdefault(
                "429",
                {"description": "Rate limit exceeded", "content": _PROBLEM, "headers": _HEADERS},
            )
            if any(config.policies[name].fail_closed for name in route.policies):
                responses.setdefault(
                    "503",
                    {
                        "description": "Rate limits cannot be enforced right now "
                        "(shared limit store unreachable)",
                        "content": _PROBLEM,
                    },
                )


def document_rate_limits(app: FastAPI, config: RateLimitConfig) -> None:
    """Show every limited route's limits in its OpenAPI description and declare its 429 (and
    503 for fail-closed policies). Call once, after all routers are included. Also checks that
    every policy a route names exists, so a typo fails at startup, not on a request."""
    for route in limited_routes(app):
        unknown = [name for name in route.policies if name not in config.policies]
        if unknown:
            raise ValueError(
                f"{sorted(route.methods)} {route.path} names unknown rate-limit policies "
                f"{unknown}; known: {sorted(config.policies)}"
            )
    generate = app.openapi
    last: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not last or last[0] is not schema:  # FastAPI regenerates when routes change
            _annotate(schema, limited_routes(app), config)
            last[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
