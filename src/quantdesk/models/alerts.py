"""Alerts raised by the performance monitor (ops/monitor.py), with their deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Double, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow


class AlertLevel(StrEnum):
    """A metric's state; an alert row records the state it changed to."""

    OK = "ok"  # only as `previous_level`: the alert announcing a return to normal is RESOLVED
    WARNING = "warning"
    CRITICAL = "critical"
    RESOLVED = "resolved"


class AlertEvent(Base):
    """One change of a monitored metric's state: warning, critical or resolved.

    `deliveries` holds one entry per channel it was sent to
    (`{"channel": "slack", "ok": false, "error": "HTTP 500"}`): a failed delivery is recorded
    here and logged, never retried, so one broken channel cannot silence the others.
    """

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    metric: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[AlertLevel] = mapped_column(str_enum(AlertLevel, "alert_level"))
    previous_level: Mapped[AlertLevel] = mapped_column(str_enum(AlertLevel, "alert_previous_level"))
    # None when the metric has no figure (too few samples) and the alert resolves for lack of data.
    value: Mapped[float | None] = mapped_column(Double)
    threshold: Mapped[float | None] = mapped_column(Double)  # the level's threshold crossed
    message: Mapped[str] = mapped_column(String(500))
    instance: Mapped[str] = mapped_column(String(128))  # host:pid of the process that saw it
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deliveries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
