"""/admin/alerts (alert history) and /admin/monitor (what the monitor sees now): system:admin.

Both describe the deployment's health, which is nobody else's business.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from quantdesk.auth.dependencies import SystemAdmin
from quantdesk.dependencies import SessionDep
from quantdesk.kit.app_state import app_state
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.models import AlertLevel
from quantdesk.ops.alert_service import alert_service

router = APIRouter(prefix="/admin", tags=["admin"])


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    metric: str
    level: AlertLevel = Field(description="warning, critical or resolved")
    previous_level: AlertLevel
    value: float | None = Field(description="The figure; null when there was no data")
    threshold: float | None
    message: str
    instance: str = Field(description="host:pid of the process that raised it")
    details: dict[str, Any]
    deliveries: list[dict[str, Any]] = Field(
        description='One per channel: {"channel", "ok", "error"}'
    )


class MonitoredMetric(BaseModel):
    metric: str
    level: AlertLevel
    value: float | None
    warning: float
    critical: float
    last_alert_at: datetime | None


class MonitorRead(BaseModel):
    enabled: bool
    running: bool
    interval_seconds: float
    window_seconds: float
    last_tick_at: datetime | None
    channels: list[str]
    metrics: list[MonitoredMetric]


class MonitorResponse(BaseModel):
    data: MonitorRead


@router.get("/alerts", response_model=Page[AlertRead])
async def list_alerts(
    _: SystemAdmin,
    session: SessionDep,
    metric: Annotated[str | None, Query(max_length=64)] = None,
    level: AlertLevel | None = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AlertRead]:
    """Alerts raised by the performance monitor, newest first."""
    rows, next_cursor = await alert_service.search(
        session, metric=metric, level=level, cursor=cursor, limit=limit
    )
    data = [AlertRead.model_validate(row) for row in rows]
    return Page[AlertRead](data=data, meta=ListMeta(count=len(data), next_cursor=next_cursor))


@router.get("/monitor", response_model=MonitorResponse)
async def monitor_status(_: SystemAdmin, request: Request) -> MonitorResponse:
    """Thresholds, the latest figures and each metric's announced level."""
    monitor = app_state(request.app).monitor
    settings = monitor.settings
    metrics = [
        MonitoredMetric(
            metric=name,
            level=state.level,
            value=state.figure.value if state.figure else None,
            warning=monitor.thresholds[name].warning,
            critical=monitor.thresholds[name].critical,
            last_alert_at=state.last_alert_at,
        )
        for name, state in sorted(monitor.states.items())
    ]
    return MonitorResponse(
        data=MonitorRead(
            enabled=settings.monitor_enabled,
            running=monitor.running,
            interval_seconds=settings.monitor_interval_seconds,
            window_seconds=settings.monitor_window_seconds,
            last_tick_at=monitor.last_tick_at,
            channels=[channel.name for channel in monitor.channels],
            metrics=metrics,
        )
    )
