"""Which methods a path allows, for `Allow` on a 405 and the answer to `OPTIONS` (RFC 9110
sections 9.3.7 and 15.5.6).

Starlette answers a method mismatch from the first route whose path matches, so a path
served by two routes (`GET` and `DELETE /admin/cache`) would advertise only one of them.
Here every route matching the path contributes; `HEAD` comes with `GET`, and `OPTIONS` is
always allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import Scope

_ORDER = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))}


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """The methods the routes matching `scope`'s path accept (empty when none matches)."""
    by_template: dict[str, set[str]] = {}
    for route in routes:
        methods: Any = getattr(route, "methods", None)
        if not methods:
            continue
        match, _ = route.matches({**scope, "method": next(iter(methods))})
        if match is Match.FULL:
            template = str(getattr(route, "path_format", getattr(route, "path", "")))
            by_template.setdefault(template, set()).update(methods)
    if not by_template:
        return []
    # `/backtests/sweep` is its own resource, not `/backtests/{run_id}` with run_id "sweep":
    # the template with the fewest parameters names the resource.
    template = min(by_template, key=lambda path: (path.count("{"), path))
    found = by_template[template]
    if "GET" in found:
        found.add("HEAD")
    found.add("OPTIONS")
    return sorted(found, key=lambda method: (_ORDER.get(method, len(_ORDER)), method))
