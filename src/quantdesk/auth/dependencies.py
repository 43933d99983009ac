"""Who is calling, and may they: typed dependencies every route declares (ARCHITECTURE.md).

Every route states either the scope it needs (`Depends(require(Scope.X))`, or an alias such as
`ReadTickers`) or that it is public (`dependencies=[PUBLIC]`). tests/auth/test_route_policy.py
walks every route and fails on one that does neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import ROLE_SCOPES, Scope
from quantdesk.audit.service import audit_service
from quantdesk.auth.api_keys import api_key_service
from quantdesk.auth.repository import SessionRepository, UserRepository
from quantdesk.auth.tokens import verify_access_token
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.dependencies import app_database
from quantdesk.errors import Forbidden, Unauthorized
from quantdesk.kit.app_state import app_state
from quantdesk.kit.clientip import client_ip, parse_networks
from quantdesk.ratelimit.dependencies import (
    MARKER_ATTRIBUTE,
    STATE_CLIENT_IP,
    RateLimitMarker,
    apply_rate_limits,
    rate_limit,
)


def request_ip(request: Request, settings: Settings) -> str:
    # The edge already resolved it (same trusted-proxy rules) when it is installed.
    resolved = request.scope.get("state", {}).get(STATE_CLIENT_IP)
    if isinstance(resolved, str):
        return resolved
    return client_ip(request.scope, parse_networks(settings.trusted_proxies))


STATE_PRINCIPAL = "principal"
_API_KEY_HEADER = b"x-api-key"
_AUTHORIZATION_HEADER = b"authorization"


def _credentials(request: Request) -> tuple[str | None, str | None]:
    """(X-API-Key, Authorization), the first of each, in one pass over the raw headers."""
    api_key = authorization = None
    for name, value in request.scope["headers"]:
        if name == _API_KEY_HEADER:
            if api_key is None:
                api_key = value.decode("latin-1")
        elif name == _AUTHORIZATION_HEADER and authorization is None:
            authorization = value.decode("latin-1")
    return api_key, authorization


def owner_id(principal: Principal) -> int:
    """The signed-in caller's user id, for routes whose policy already refuses guests (the
    check only narrows the type; reaching it anyway is a 401, never a 500)."""
    if principal.user_id is None:
        raise Unauthorized()
    return principal.user_id


async def current_principal(request: Request) -> Principal:
    """Authenticate by `X-API-Key` or `Authorization: Bearer <jwt>`; no credentials at all
    means the anonymous guest. Bad credentials are always 401, never a silent downgrade.

    Reads go through their own short unit of work, not the endpoint's session: a request
    whose API key is in the key cache touches no database at all before its endpoint runs.
    The headers are read here rather than through FastAPI's security dependencies: each
    dependency node costs every request, and quantdesk.auth.openapi declares both schemes
    in the OpenAPI document (the docs page's Authorize button) instead.
    """
    # The request state (`request.state`) as the plain dict it wraps: this runs on every
    # API request, and the wrapper's attribute misses cost an exception each.
    state: dict[str, Any] = request.scope.setdefault("state", {})
    cached = state.get(STATE_PRINCIPAL)
    if isinstance(cached, Principal):
        return cached
    api_key, authorization = _credentials(request)
    # From app.state, not SettingsDep/DatabaseDep: each dependency node costs every request.
    settings = app_state(request.app).settings
    database = app_database(request)
    ip = request_ip(request, settings)
    principal = await authenticate(database, settings, api_key, authorization, ip)
    state[STATE_PRINCIPAL] = principal
    return principal


async def authenticate(
    database: Database, settings: Settings, api_key: str | None, authorization: str | None, ip: str
) -> Principal:
    """The principal for an `X-API-Key` value or an `Authorization` header value (both None:
    the guest); Unauthorized for bad credentials. HTTP requests and WebSocket connections
    (quantdesk.realtime) authenticate through here."""
    if api_key is not None:  # present but empty is a bad credential too, not anonymity
        if not api_key.strip():
            raise Unauthorized("the X-API-Key header is empty")
        principal = await api_key_service.authenticate(database, settings, api_key.strip(), ip)
    elif authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>' or 'X-API-Key: <key>'")
        claims = verify_access_token(settings, token.strip())
        async with database.session() as session:
            user = await UserRepository(session).get(claims.user_id)
            if (
                user is None
                or not user.active
                or not await SessionRepository(session).is_active(claims.session_id, user.id)
            ):
                raise Unauthorized("invalid or expired token")
        principal = Principal(
            user_id=user.id,
            role=user.role,
            # The token's scopes, narrowed to the role's current ones (a demotion applies now).
            scopes=claims.scopes & ROLE_SCOPES[user.role],
            client_ip=ip,
            email=user.email,
            session_id=claims.session_id,
        )
    else:
        principal = Principal.anonymous(ip)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def caller(request: Request) -> Principal:
    """The authenticated caller, counted against their role's rate-limit tier (once per
    request, however many policy dependencies a route has).

    Every /api/v1 route's policy dependency (`require`, `signed_in`, `public`) goes through
    here, so authentication, the tier limit and the scope check are one dependency node:
    FastAPI's per-node cost is paid on every request.
    """
    principal = await current_principal(request)
    await apply_rate_limits(request, principal, None)
    return principal


def _counts_tier(dependency: Callable[..., Any]) -> None:
    # Read by the OpenAPI rate-limit section and the route-policy test.
    setattr(dependency, MARKER_ATTRIBUTE, RateLimitMarker(None))


async def _audit_denial(request: Request, principal: Principal, scope: Scope) -> None:
    # Its own unit of work: the denied request's session (if any) is rolled back.
    async with app_database(request).session() as session:
        await audit_service.record(
            session,
            action="access.denied",
            outcome="denied",
            actor=principal,
            user_agent=request.headers.get("user-agent"),
            details={"scope": scope.value, "method": request.method, "path": request.url.path},
        )


def require(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers whose credential carries `scope`."""

    async def dependency(request: Request) -> Principal:
        principal = await caller(request)
        if principal.has(scope):
            return principal
        if principal.is_anonymous:
            raise Unauthorized(f"sign in: this needs the {scope.value} scope")
        await _audit_denial(request, principal, scope)
        raise Forbidden(f"this needs the {scope.value} scope")

    dependency.__quantdesk_scope__ = scope  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{scope.value.replace(':', '_')}"
    _counts_tier(dependency)
    return dependency


async def signed_in(request: Request) -> Principal:
    """Any authenticated caller (a user session or API key), whatever its scopes."""
    principal = await caller(request)
    if principal.is_anonymous:
        raise Unauthorized()
    return principal


signed_in.__quantdesk_scope__ = "authenticated"  # type: ignore[attr-defined]
_counts_tier(signed_in)


async def key_manager(request: Request) -> Principal:
    """A signed-in session, or an API key granted `manage:api-keys` when it was created: a
    key with narrower scopes can neither see nor revoke its owner's keys."""
    principal = await caller(request)
    if principal.is_anonymous:
        raise Unauthorized()
    if principal.api_key_id is None or principal.has(Scope.MANAGE_API_KEYS):
        return principal
    await _audit_denial(request, principal, Scope.MANAGE_API_KEYS)
    raise Forbidden(
        "managing API keys needs a signed-in session or a key with the manage:api-keys scope"
    )


key_manager.__quantdesk_scope__ = Scope.MANAGE_API_KEYS  # type: ignore[attr-defined]
_counts_tier(key_manager)


async def public(request: Request) -> None:
    """Marks an /api/v1 route as deliberately open to everyone. Callers are still identified
    (bad credentials are 401, never a silent downgrade) and counted against their tier."""
    await caller(request)


public.__quantdesk_public__ = True  # type: ignore[attr-defined]
_counts_tier(public)
PUBLIC = Depends(public)


async def open_endpoint() -> None:
    """Marks an operational route (health probes, /metrics) as open to everyone, without
    authentication or rate limits: probes and scrapers call from one address all day."""


open_endpoint.__quantdesk_public__ = True  # type: ignore[attr-defined]
OPEN = Depends(open_endpoint)


def policy(name: str) -> Callable[..., Awaitable[Principal]]:
    """`Depends(policy("backtests-create"))`: the caller's tier plus the named endpoint policy
    (ratelimit/policies.py), charged only when the route accepts the request."""
    return rate_limit(name, principal=current_principal)


ReadTickers = Annotated[Principal, Depends(require(Scope.READ_TICKERS))]
ManageUsers = Annotated[Principal, Depends(require(Scope.MANAGE_USERS))]
SystemAdmin = Annotated[Principal, Depends(require(Scope.SYSTEM_ADMIN))]
SignedIn = Annotated[Principal, Depends(signed_in)]
ManageApiKeys = Annotated[Principal, Depends(key_manager)]


def route_policy(dependencies: list[Any]) -> str | None:
    """'public' or the scope a route's dependency tree declares (for the route-policy test)."""
    for dependant in dependencies:
        call = getattr(dependant, "call", None)
        if getattr(call, "__quantdesk_public__", False):
            return "public"
        scope = getattr(call, "__quantdesk_scope__", None)
        if scope is not None:
            return str(scope)
        found = route_policy(list(getattr(dependant, "dependencies", [])))
        if found:
            return found
    return None
