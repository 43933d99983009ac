"""The running app's job machinery, for endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from quantdesk.jobs.lifecycle import JobRuntime
from quantdesk.jobs.runner import JobsUnavailable
from quantdesk.kit.app_state import app_state


def get_job_runtime(request: Request) -> JobRuntime:
    runtime = app_state(request.app).jobs
    if not isinstance(runtime, JobRuntime):
        raise JobsUnavailable("background jobs are not running in this server")
    return runtime


JobRuntimeDep = Annotated[JobRuntime, Depends(get_job_runtime)]
