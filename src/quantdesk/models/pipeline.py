"""Data-pipeline records: every provider fetch with its outcome and quality, rows quarantined
by the quality checks, and every background job run."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Double, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow


class FetchStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    RATE_LIMITED = "RATE_LIMITED"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRYING = "retrying"
    SKIPPED = "skipped"  # finished with nothing it could do (the result says why)


class ProviderFetch(Base):
    __tablename__ = "provider_fetches"
    __table_args__ = (Index("ix_provider_fetches_provider_started_at", "provider", "started_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64))  # symbol, currency pair, series id
    status: Mapped[FetchStatus] = mapped_column(str_enum(FetchStatus, "fetch_status"))
    latency_ms: Mapped[float] = mapped_column(Double)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    quality_score: Mapped[float | None] = mapped_column(Double)
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(1000))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the call says about the provider's health: True it answered (data, or "no such
    # subject"), False it failed, None nothing (our own budget refused; nothing was sent).
    healthy: Mapped[bool | None] = mapped_column(Boolean)


class QuarantinedRow(Base):
    """A fetched row the quality checks refused, kept with the reason for a human to look at."""

    __tablename__ = "quarantined_rows"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    fetch_id: Mapped[int | None] = mapped_column(
        ForeignKey("provider_fetches.id", ondelete="SET NULL"), index=True
    )
    provider: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64))
    ts: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    row: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_name_created_at", "name", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus, "job_status"))
    runner: Mapped[str] = mapped_column(String(16))  # "inprocess" | "celery"
    task_id: Mapped[str | None] = mapped_column(String(64), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Double)
    error: Mapped[str | None] = mapped_column(String(2000))
    # The task's JobResult (rows written, subjects skipped and why), as JSON.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
