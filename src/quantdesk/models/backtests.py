"""Backtest runs and parameter sweeps requested through the API, with their results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow


class BacktestKind(StrEnum):
    SINGLE = "single"
    SWEEP = "sweep"


class BacktestStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class BacktestRun(Base):
    """One requested run. ``request`` keeps the validated request as given; results land in
    ``stats``/``meta``/``compat`` (single runs) or ``sweep`` (ranked grid), with trades and the
    equity curve as JSON documents. ``id`` is random, so ids reveal nothing about other runs."""

    __tablename__ = "backtest_runs"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[BacktestKind] = mapped_column(str_enum(BacktestKind, "backtest_kind"))
    status: Mapped[BacktestStatus] = mapped_column(
        str_enum(BacktestStatus, "backtest_status"), default=BacktestStatus.QUEUED
    )
    symbol: Mapped[str] = mapped_column(String(32))
    timeframe: Mapped[str] = mapped_column(String(3))
    strategy: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    progress: Mapped[float] = mapped_column(Double, default=0.0)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    compat: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    trades: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    equity: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sweep: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
