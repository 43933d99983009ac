"""Health and readiness: each component checked with its latency.

Liveness says the process answers. Readiness says it can serve: database reachable and its
schema at the migrations' head (a replica started before `db upgrade` ran is not ready).
Redis is optional: when configured, it is checked and reported; its absence degrades the
service (caches and limits fall back per process) rather than making it unready.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import psutil
from sqlalchemy import text

from quantdesk import __version__, migrate
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.kit.timeutil import iso_z
from quantdesk.models import utcnow

Status = Literal["ok", "degraded", "down"]
CHECK_TIMEOUT_SECONDS = 3.0
STARTED_AT = utcnow()
_STARTED_MONOTONIC = time.monotonic()


@dataclass
class ComponentHealth:
    name: str
    status: Status
    latency_ms: float
    required: bool
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "latency_ms": self.latency_ms,
            "required": self.required,
            **self.detail,
        }


async def _timed(name: str, required: bool, probe: Any) -> ComponentHealth:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
        status: Status = "ok"
    except Exception as exc:  # a failing probe is reported, never raised
        detail = {"error": f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__}
        status = "down"
    latency = round((time.perf_counter() - started) * 1000, 2)
    return ComponentHealth(name, status, latency, required, detail)


async def check_database(db: Database, name: str = "database") -> ComponentHealth:
    async def probe() -> dict[str, Any]:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await connection.run_sync(migrate.current_revisions)
        head = migrate.head_revisions()
        if current != head:
            raise RuntimeError(
                f"schema at {sorted(current) or 'no revision'}, migrations head is {sorted(head)}; "
                "run `quantdesk db upgrade`"
            )
        return {"dialect": db.dialect, "revision": ",".join(sorted(current))}

    return await _timed(name, True, probe)


async def check_redis(url: str) -> ComponentHealth:
    async def probe() -> dict[str, Any]:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return {}

    return await _timed("redis", False, probe)


async def components(db: Database, settings: Settings) -> list[ComponentHealth]:
    checks = [check_database(db)]
    if db.replica is not db:  # QUANTDESK_DATABASE_READ_URL: the hot reads fail without it
        checks.append(check_database(db.replica, "database_replica"))
    if settings.redis_url:
        checks.append(check_redis(settings.redis_url))
    return list(await asyncio.gather(*checks))


def event_subscription(app: Any, settings: Settings) -> ComponentHealth | None:
    """The WebSocket hub's event-bus subscription (quantdesk.realtime), required: `degraded`
    from the moment it is lost, `down` once lost for longer than `realtime_bus_down_seconds`
    (5 s: a blip does not take every replica out of the balancer at once); None without a hub
    (an app used without its lifespan) or with the memory bus."""
    hub = getattr(app.state, "realtime", None)
    if hub is None or hub.bus.name != "redis":  # the memory bus cannot lose its subscribers
        return None
    lost = hub.bus_down_seconds()
    down = round(lost, 1)
    status: Status = "ok"
    if lost > settings.realtime_bus_down_seconds:
        status = "down"
    elif lost > 0:
        status = "degraded"
    detail: dict[str, Any] = {"backend": hub.bus.name}
    if down:
        detail["down_seconds"] = down
    return ComponentHealth("event_subscription", status, 0.0, True, detail)


def overall(found: list[ComponentHealth]) -> Status:
    if any(c.required and c.status == "down" for c in found):
        return "down"
    if any(c.status != "ok" for c in found):
        return "degraded"
    return "ok"


def uptime_seconds() -> float:
    return round(time.monotonic() - _STARTED_MONOTONIC, 1)


class CpuFigures(TypedDict):
    percent: float
    count: int | None


class MemoryFigures(TypedDict):
    percent: float
    available_mb: float
    process_rss_mb: float


class DiskFigures(TypedDict):
    path: str
    percent: float
    free_gb: float


class Resources(TypedDict):
    cpu: CpuFigures
    memory: MemoryFigures
    disk: DiskFigures


class ServiceInfo(TypedDict):
    version: str
    environment: str
    started_at: str
    uptime_seconds: float


def system_resources(settings: Settings) -> Resources:
    process = psutil.Process(os.getpid())
    data_path = settings.sqlite_path()
    disk_path = str(data_path.parent.resolve()) if data_path else os.getcwd()
    disk = shutil.disk_usage(disk_path)
    memory = psutil.virtual_memory()
    return {
        "cpu": {"percent": psutil.cpu_percent(interval=None), "count": psutil.cpu_count()},
        "memory": {
            "percent": memory.percent,
            "available_mb": round(memory.available / 2**20, 1),
            "process_rss_mb": round(process.memory_info().rss / 2**20, 1),
        },
        "disk": {
            "path": disk_path,
            "percent": round(disk.used / disk.total * 100, 1),
            "free_gb": round(disk.free / 2**30, 2),
        },
    }


def service_info(settings: Settings) -> ServiceInfo:
    return {
        "version": __version__,
        "environment": settings.environment.value,
        "started_at": iso_z(STARTED_AT),
        "uptime_seconds": uptime_seconds(),
    }
