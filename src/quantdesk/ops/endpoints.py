"""Health probes: /health/live, /health/ready, /health and /health/detailed.

Live and ready are open and say only what an orchestrator needs. /health and /health/detailed
show everyone the overall status and each component's; the rest (version, environment,
uptime, database dialect and revision, probe errors, and on /health/detailed the CPU, memory
and disk figures with the data directory) only to an admin (`system:admin`) or to the
monitoring token (`QUANTDESK_MONITORING_TOKEN`, sent as `Authorization: Bearer <token>`).
Credentials that do not check out are a 401; a signed-in caller who is not an admin, a 403.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import OPEN, current_principal
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.dependencies import DatabaseDep, SettingsDep
from quantdesk.errors import Forbidden
from quantdesk.ops import health

# Probes are public: orchestrators call them without credentials.
router = APIRouter(prefix="/health", tags=["health"], dependencies=[OPEN])


@router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    summary="Database reachable and migrated to head, event subscription up (503 otherwise)",
    description="503 `down` with the `failing` components when a required one is down; "
    "200 `degraded` with the `degraded` ones when something is wrong that does not stop "
    "this replica serving (Redis unreachable: limits and cache fall back; the event "
    "subscription lost for less than its grace); 200 `ok` otherwise.",
)
async def ready(request: Request, db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    found = await health.components(db, settings)
    subscription = health.event_subscription(request.app, settings)
    if subscription is not None:  # down for more than 5 s: this replica misses stream events
        found.append(subscription)
    failing = {c.name: c.as_dict() for c in found if c.required and c.status == "down"}
    if failing:
        return JSONResponse({"status": "down", "failing": failing}, status_code=503)
    degraded = {c.name: c.as_dict() for c in found if c.status != "ok"}
    if degraded:  # still serving, and saying what is wrong
        return JSONResponse({"status": "degraded", "degraded": degraded})
    return JSONResponse({"status": "ok"})


def _monitoring_token(request: Request, settings: Settings) -> bool:
    token = settings.monitoring_token
    if token is None:
        return False
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), expected)


async def may_see_details(request: Request, settings: Settings) -> bool:
    """True for the monitoring token or an admin, False for an anonymous caller."""
    if _monitoring_token(request, settings):
        return True
    principal = await current_principal(request)  # bad credentials: 401
    if principal.is_anonymous:
        return False
    if principal.has(Scope.SYSTEM_ADMIN):
        return True
    raise Forbidden("health details need the system:admin scope or the monitoring token")


async def _report(
    request: Request, db: Database, settings: Settings, *, detailed: bool
) -> JSONResponse:
    full = await may_see_details(request, settings)
    found = await health.components(db, settings)
    subscription = health.event_subscription(request.app, settings)
    if subscription is not None:
        found.append(subscription)
    status = health.overall(found)
    code = 503 if status == "down" else 200
    if not full:
        components = {c.name: {"status": c.status} for c in found}
        return JSONResponse({"status": status, "components": components}, status_code=code)
    body: dict[str, Any] = {
        "status": status,
        **health.service_info(settings),
        "components": {c.name: c.as_dict() for c in found},
    }
    if detailed:
        body["system"] = health.system_resources(settings)
    return JSONResponse(body, status_code=code)


@router.get(
    "",
    summary="Status of every component; versions, latencies and errors for admins (see module)",
)
async def summary(request: Request, db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    return await _report(request, db, settings, detailed=False)


@router.get(
    "/detailed",
    summary="Status of every component; for admins also CPU, memory, disk, version and uptime",
)
async def detailed(request: Request, db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    return await _report(request, db, settings, detailed=True)
