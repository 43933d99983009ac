"""Backtest runs and parameter sweeps requested through the API, with their results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Integer, String, UniqueConstraint
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
    # Sweeps: how many chunks the grid was split into, and how many have been applied.
    chunks_total: Mapped[int | None] = mapped_column(Integer)
    chunks_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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


class BacktestSweepChunk(Base):
    """One slice of a sweep: a symbol and a block of its grid (``plan``: fast and slow periods,
    the pinned bar range, periods per year). ``rows`` is null until the chunk is applied;
    (run_id, chunk_no) is the key, so a redelivered chunk is applied once."""

    __tablename__ = "backtest_sweep_chunks"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("backtest_runs.id", ondelete="CASCADE"), primary_key=True
    )
    chunk_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    symbol: Mapped[str] = mapped_column(String(32))
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    rows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
