"""Would the route accept this request? Asked before a cost policy is charged.

A route's `rate_limit(policy)` dependency runs before FastAPI validates the path, query,
header, cookie and body parameters (dependencies always do), so charging there made a request
refused with 422 spend a scarce slot: three invalid backtest bodies used up the hour's three
runs. The policy is charged only when the request passes the route's own checks, asked here
with the route's own parameter definitions (FastAPI's validators, on the body FastAPI already
read and parsed), and when the caller holds the scopes the route declares. A request that
fails them is answered 401/403/422 by the route itself, unchanged, and costs no slot.

Only routes that name a policy pay for this; the tier is counted for every request as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.params import Form

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope

SCOPE_ATTRIBUTE = "__quantdesk_scope__"  # set by quantdesk.auth.dependencies.require/signed_in


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _holds(caller: Principal, required: object) -> bool:
    if isinstance(required, Scope):
        return caller.has(required)
    if required == "authenticated":
        return not caller.is_anonymous
    return True


async def _received_body(request: Request, dependant: Dependant) -> Any:
    """The body as FastAPI handed it to validation (its parse is cached on the request)."""
    if any(isinstance(field.field_info, Form) for field in dependant.body_params):
        return await request.form()
    raw = await request.body()
    if not raw:
        return None
    kind = request.headers.get("content-type", "application/json").split(";", 1)[0].strip()
    main, _, sub = kind.lower().partition("/")
    if main == "application" and (sub == "json" or sub.endswith("+json")):
        return await request.json()
    return raw


async def would_accept(request: Request, caller: Principal) -> bool:
    """False when the route will refuse the request for its parameters or scopes."""
    route = request.scope.get("route")
    root = getattr(route, "dependant", None)
    if not isinstance(root, Dependant):
        return True
    embed = bool(getattr(route, "_embed_body_fields", False))
    for dependant in _dependants(root):
        if not _holds(caller, getattr(dependant.call, SCOPE_ATTRIBUTE, None)):
            return False
        for fields, received in (
            (dependant.path_params, request.path_params),
            (dependant.query_params, request.query_params),
            (dependant.header_params, request.headers),
            (dependant.cookie_params, request.cookies),
        ):
            if fields and request_params_to_args(fields, received)[1]:
                return False
        if dependant.body_params and not await _body_is_valid(request, dependant, embed):
            return False
    return True


async def _body_is_valid(request: Request, dependant: Dependant, embed: bool) -> bool:
    try:
        body = await _received_body(request, dependant)
        _, errors = await request_body_to_args(
            body_fields=dependant.body_params, received_body=body, embed_body_fields=embed
        )
    except Exception:  # a validator raising its own problem (AppError): FastAPI answers it
        return False
    return not errors
