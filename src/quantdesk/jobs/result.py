"""What a job run did: its `JobResult`, stored with the run (`job_runs.result`) and shown by
`GET /api/v1/jobs/runs/{id}` and `quantdesk jobs run`.

A task returns one; the run's status follows from it. A run that could do nothing at all (no
source configured, no subjects, or every subject skipped) is `skipped`, not `succeeded`, and
its `reason` or its `skipped` list says why. A task that fails after doing part of its work
raises a `JobFailure` carrying the partial result, so the run records both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict


class SkippedSubject(TypedDict):
    subject: str
    reason: str


@dataclass
class JobResult:
    """Rows written per subject (and by which provider), subjects left alone and why, and any
    other figures the task counts (rows deleted per table, signals settled per status)."""

    rows_written: int = 0
    written: dict[str, int] = field(default_factory=dict)  # subject -> rows written
    providers: dict[str, str] = field(default_factory=dict)  # subject -> provider that answered
    skipped: list[SkippedSubject] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    reason: str | None = None  # set when the whole run had nothing to do

    @classmethod
    def nothing_to_do(cls, reason: str) -> JobResult:
        return cls(reason=reason)

    def wrote(self, subject: str, rows: int, *, provider: str | None = None) -> None:
        self.written[subject] = self.written.get(subject, 0) + rows
        self.rows_written += rows
        if provider is not None:
            self.providers[subject] = provider

    def skip(self, subject: str, reason: str) -> None:
        self.skipped.append(SkippedSubject(subject=subject, reason=reason))

    @property
    def did_nothing(self) -> bool:
        """True when the run is `skipped`: told so, or every subject it had was skipped."""
        if self.reason is not None:
            return True
        return bool(self.skipped) and not self.written and not self.counts

    def as_json(self) -> dict[str, Any]:
        return {
            "rows_written": self.rows_written,
            "written": dict(self.written),
            "providers": dict(self.providers),
            "skipped": [dict(item) for item in self.skipped],
            "counts": dict(self.counts),
            "reason": self.reason,
        }


class JobFailure(Exception):
    """A run that failed after doing part of its work: `result` is recorded with the error.
    Retried like any other failure (see `PermanentJobError` for one that is not)."""

    def __init__(self, message: str, *, result: JobResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def result_of(value: object) -> JobResult | None:
    """The JobResult a task returned or failed with, if any."""
    if isinstance(value, JobResult):
        return value
    carried = getattr(value, "result", None)
    return carried if isinstance(carried, JobResult) else None
