"""Health probes: /health/live, /health/ready, /health and /health/detailed (public)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from quantdesk.auth.dependencies import OPEN
from quantdesk.dependencies import DatabaseDep, SettingsDep
from quantdesk.ops import health

# Probes are public: orchestrators call them without credentials.
router = APIRouter(prefix="/health", tags=["health"], dependencies=[OPEN])


@router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Database reachable and migrated to head (503 otherwise)")
async def ready(db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    found = await health.components(db, settings)
    failing = {c.name: c.as_dict() for c in found if c.required and c.status != "ok"}
    if failing:
        return JSONResponse({"status": "down", "failing": failing}, status_code=503)
    return JSONResponse({"status": "ok"})


async def _report(db: Any, settings: Any, *, detailed: bool) -> JSONResponse:
    found = await health.components(db, settings)
    status = health.overall(found)
    body: dict[str, Any] = {
        "status": status,
        **health.service_info(settings),
        "components": {c.name: c.as_dict() for c in found},
    }
    if detailed:
        body["system"] = health.system_resources(settings)
    return JSONResponse(body, status_code=503 if status == "down" else 200)


@router.get("", summary="Every component with status and latency")
async def summary(db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    return await _report(db, settings, detailed=False)


@router.get("/detailed", summary="Components plus CPU, memory, disk, version and uptime")
async def detailed(db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    return await _report(db, settings, detailed=True)
