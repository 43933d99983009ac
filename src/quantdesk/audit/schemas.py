"""What GET /admin/audit answers: one audit event (the hash chains it to the previous one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    action: str
    outcome: str
    actor_user_id: int | None
    actor_api_key_id: int | None
    ip: str | None
    user_agent: str | None
    resource_type: str | None
    resource_id: str | None
    details: dict[str, Any] | None
    hash: str


class AuditChain(BaseModel):
    """The chain's verification: `ok`, or the first row whose hash or link is wrong and why."""

    rows: int
    ok: bool
    first_broken_id: int | None
    reason: str | None


class AuditChainResponse(BaseModel):
    data: AuditChain
