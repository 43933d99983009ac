"""Recording and verifying audit events. Every domain records through `audit_service.record`.

Chaining: the new row is inserted first (on SQLite that takes the database's write lock; on
PostgreSQL an advisory transaction lock is taken before), then the previous row's hash is
read and this row's hash computed. Concurrent writers are therefore serialized and the chain
never forks.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.models import AuditEvent
from quantdesk.models.base import utcnow
from quantdesk.observability.logging import redact

GENESIS_HASH = "0" * 64
_TABLE = cast(Table, AuditEvent.__table__)
_INSERTED = [column.key for column in _TABLE.columns if column.key != "id"]
_ADVISORY_LOCK_KEY = 0x71_64_61_75_64_69_74  # "qdaudit"
HASHED_FIELDS = (
    "id",
    "created_at",
    "action",
    "outcome",
    "actor_user_id",
    "actor_api_key_id",
    "ip",
    "user_agent",
    "resource_type",
    "resource_id",
    "details",
    "prev_hash",
)


def content_hash(event: AuditEvent) -> str:
    """SHA-256 of the row's canonical JSON (sorted keys, UTC times) including prev_hash."""
    content: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        content[name] = value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    rows: int
    ok: bool
    first_broken_id: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One event to record (`AuditService.record_many`); the fields of `record`."""

    action: str
    outcome: str = "success"
    actor: Principal | None = None
    user_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None
    resource_type: str | None = None
    resource_id: str | int | None = None
    details: dict[str, Any] | None = None

    def event(self, created_at: datetime) -> AuditEvent:
        """The row to insert (not added to any session)."""
        actor = self.actor
        return AuditEvent(
            created_at=created_at,
            action=self.action,
            outcome=self.outcome,
            actor_user_id=(
                self.user_id if self.user_id is not None else (actor.user_id if actor else None)
            ),
            actor_api_key_id=actor.api_key_id if actor else None,
            ip=self.ip or (actor.client_ip if actor else None),
            user_agent=(self.user_agent or None) and self.user_agent[:256],
            resource_type=self.resource_type,
            resource_id=str(self.resource_id) if self.resource_id is not None else None,
            # Secrets never reach the log: the same redaction as application logs.
            details=redact(self.details or {}),
            prev_hash=GENESIS_HASH,
            hash=f"pending-{uuid.uuid4().hex}",
        )


class AuditService:
    async def record(
        self,
        session: AsyncSession,
        *,
        action: str,
        outcome: str = "success",
        actor: Principal | None = None,
        user_id: int | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        resource_type: str | None = None,
        resource_id: str | int | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        record = AuditRecord(
            action, outcome, actor, user_id, ip, user_agent, resource_type, resource_id, details
        )
        (event,) = await self.record_many(session, [record])
        return event

    async def record_many(
        self, session: AsyncSession, records: Sequence[AuditRecord]
    ) -> list[AuditEvent]:
        """Append `records` to the chain in order, with three statements whatever their
        number (insert, read the previous hash, write the hashes). The events answered are
        not in the session: read-only copies of the rows."""
        if not records:
            return []
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
            )
        now = utcnow()
        events = [record.event(now) for record in records]
        # Core statements on the table: no ORM bookkeeping for rows nobody changes again.
        ids = await session.scalars(
            _TABLE.insert().returning(_TABLE.c.id, sort_by_parameter_order=True),
            [{name: getattr(event, name) for name in _INSERTED} for event in events],
        )
        for event, event_id in zip(events, ids, strict=True):
            event.id = event_id
        chain = sorted(events, key=lambda event: event.id)  # the chain follows id order
        previous = await session.execute(
            select(AuditEvent.hash)
            .where(AuditEvent.id < chain[0].id)
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        prev_hash = previous.scalar() or GENESIS_HASH
        for event in chain:  # nobody else appends meanwhile (the lock above, or SQLite's)
            event.prev_hash = prev_hash
            event.hash = prev_hash = content_hash(event)
        await session.execute(
            _TABLE.update()
            .where(_TABLE.c.id == bindparam("row_id"))
            .values(prev_hash=bindparam("row_prev"), hash=bindparam("row_hash")),
            [
                {"row_id": event.id, "row_prev": event.prev_hash, "row_hash": event.hash}
                for event in chain
            ],
        )
        return events

    async def search(
        self,
        session: AsyncSession,
        *,
        action: str | None = None,
        user_id: int | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> Sequence[AuditEvent]:
        """Newest first; page with `before_id` (the last id of the previous page)."""
        statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if action:
            statement = statement.where(AuditEvent.action == action)
        if user_id is not None:
            statement = statement.where(AuditEvent.actor_user_id == user_id)
        if outcome:
            statement = statement.where(AuditEvent.outcome == outcome)
        if since:
            statement = statement.where(AuditEvent.created_at >= since)
        if until:
            statement = statement.where(AuditEvent.created_at <= until)
        if before_id is not None:
            statement = statement.where(AuditEvent.id < before_id)
        return (await session.execute(statement)).scalars().all()

    async def verify(self, session: AsyncSession, *, batch: int = 5_000) -> ChainReport:
        """Walk the chain in id order; name the first row whose hash or link is wrong."""
        expected_prev = GENESIS_HASH
        last_id = 0
        rows = 0
        while True:
            chunk = (
                (
                    await session.execute(
                        select(AuditEvent)
                        .where(AuditEvent.id > last_id)
                        .order_by(AuditEvent.id)
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
            if not chunk:
                return ChainReport(rows=rows, ok=True)
            for event in chunk:
                rows += 1
                if event.prev_hash != expected_prev:
                    return ChainReport(
                        rows, False, event.id, "prev_hash does not match the previous row"
                    )
                if content_hash(event) != event.hash:
                    return ChainReport(rows, False, event.id, "content does not match its hash")
                expected_prev = event.hash
                last_id = event.id
            session.expunge_all()


audit_service = AuditService()
