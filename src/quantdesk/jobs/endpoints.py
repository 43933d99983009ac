"""/jobs: recent runs, runner statistics, and running a job now.

Everything here needs `system:admin`: run records carry job arguments and errors, and the
statistics describe the deployment (workers, queues), which is nobody else's business.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request

from quantdesk.audit.service import audit_service
from quantdesk.auth.dependencies import SystemAdmin
from quantdesk.dependencies import SessionDep
from quantdesk.jobs.dependencies import JobRuntimeDep
from quantdesk.jobs.registry import NAME_PATTERN
from quantdesk.jobs.schemas import (
    EnqueuedRead,
    EnqueuedResponse,
    JobRunCreate,
    JobRunRead,
    JobRunResponse,
    JobStatsResponse,
)
from quantdesk.jobs.service import job_run_service
from quantdesk.jobs.stats import collect_stats
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.kit.schemas import BigIdPath
from quantdesk.models import JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"])
JobName = Annotated[
    str, Path(pattern=NAME_PATTERN, max_length=64, description="e.g. maintenance.cleanup")
]


@router.get("", response_model=Page[JobRunRead])
async def list_runs(
    _: SystemAdmin,
    session: SessionDep,
    name: Annotated[str | None, Query(max_length=64)] = None,
    status: JobStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[JobRunRead]:
    """Newest first."""
    rows, next_cursor = await job_run_service.search(
        session, name=name, status=status, cursor=cursor, limit=limit
    )
    data = [JobRunRead.model_validate(row) for row in rows]
    return Page[JobRunRead](data=data, meta=ListMeta(count=len(data), next_cursor=next_cursor))


@router.get("/stats", response_model=JobStatsResponse)
async def job_stats(
    _: SystemAdmin, session: SessionDep, runtime: JobRuntimeDep
) -> JobStatsResponse:
    return JobStatsResponse(data=await collect_stats(session, runtime))


@router.get("/runs/{run_id}", response_model=JobRunResponse)
async def get_run(_: SystemAdmin, session: SessionDep, run_id: BigIdPath) -> JobRunResponse:
    return JobRunResponse(
        data=JobRunRead.model_validate(await job_run_service.get(session, run_id))
    )


@router.post("/{name}/run", status_code=202, response_model=EnqueuedResponse)
async def run_now(
    request: Request,
    admin: SystemAdmin,
    session: SessionDep,
    runtime: JobRuntimeDep,
    name: JobName,
    body: Annotated[JobRunCreate | None, Body()] = None,
) -> EnqueuedResponse:
    """Queue the job now; poll `GET /jobs/runs/{run_id}` for its outcome."""
    args = body.args if body is not None else {}
    job = await runtime.runner.enqueue(name, **args)
    await audit_service.record(
        session,
        action="jobs.run",
        actor=admin,
        user_agent=request.headers.get("user-agent"),
        resource_type="job_run",
        resource_id=job.run_id,
        details={"job": name},
    )
    return EnqueuedResponse(data=EnqueuedRead(run_id=job.run_id, task_id=job.task_id, name=name))
