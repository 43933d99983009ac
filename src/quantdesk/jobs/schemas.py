"""API schemas for job runs and runner statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from quantdesk.kit.schemas import RequestModel
from quantdesk.models import JobStatus


class SkippedSubjectRead(BaseModel):
    subject: str
    reason: str


class JobResultRead(BaseModel):
    """What a run did (jobs/result.py `JobResult`)."""

    rows_written: int = Field(description="Rows stored by the run, all subjects together")
    written: dict[str, int] = Field(description="Rows stored per subject (0: nothing new)")
    providers: dict[str, str] = Field(description="The provider that answered, per subject")
    skipped: list[SkippedSubjectRead] = Field(
        description="Subjects the run left alone, and why (not failures)"
    )
    counts: dict[str, int] = Field(description="Other figures of the task")
    reason: str | None = Field(description="Why the run had nothing to do (status skipped)")


class JobRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    args: dict[str, Any]
    status: JobStatus
    runner: str
    task_id: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None = Field(description="Running time of the last attempt, seconds")
    error: str | None
    result: JobResultRead | None = Field(
        description="What the run did; null while it runs, or for a run that recorded none"
    )


class JobRunResponse(BaseModel):
    data: JobRunRead


class JobRunCreate(RequestModel):
    args: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments (JSON)")


class EnqueuedRead(BaseModel):
    run_id: int
    task_id: str
    name: str
    status: JobStatus = JobStatus.QUEUED


class EnqueuedResponse(BaseModel):
    data: EnqueuedRead


class WorkerRead(BaseModel):
    name: str
    ok: bool
    active: int


class ScheduledJobRead(BaseModel):
    name: str
    cron: str
    timezone: str
    next_run_at: datetime
    runs_here: bool = Field(description="False when Celery beat, not this server, fires it")


class JobStats(BaseModel):
    backend: str
    queues: dict[str, int] = Field(description="Jobs waiting, per queue")
    active: int = Field(description="Jobs running now")
    retries_waiting: int
    workers: list[WorkerRead]
    workers_healthy: bool
    window_hours: int
    runs: dict[str, int] = Field(description="Runs created in the window, by status")
    registered: list[str]
    schedule: list[ScheduledJobRead]
    errors: list[str] = Field(description="Figures that could not be read, and why")


class JobStatsResponse(BaseModel):
    data: JobStats
