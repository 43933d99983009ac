"""What the jobs runner publishes (topic `jobs.failed`): a job run failed for good (no retry
left). Admins see it on the `jobs` stream; webhooks may subscribe to it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from quantdesk.infra.events import check_topic, register_payload


@register_payload
@dataclass(frozen=True, slots=True)
class JobFailed:
    type_name: ClassVar[str] = "job_failed"

    task_id: str
    job: str
    error: str | None
    failed_at: str

    @property
    def topic(self) -> str:
        return check_topic("jobs.failed")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        for field in ("task_id", "job", "failed_at"):
            if not isinstance(data.get(field), str):
                raise ValueError(f"{field}: expected a string")
        error = data.get("error")
        return cls(
            data["task_id"],
            data["job"],
            error if isinstance(error, str) else None,
            data["failed_at"],
        )
