"""Every provider call is recorded: status, latency, retries, rows, quality and the rows the
quality checks quarantined.

The database recorder writes in its own unit of work: a fetch record must survive the request
that caused it being rolled back, and a database hiccup while recording must never fail the
market-data answer (it is logged instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from quantdesk.db import Database
from quantdesk.marketdata.providers.quality import Rejected
from quantdesk.marketdata.providers.repository import ProviderFetchRepository, clip
from quantdesk.models import FetchStatus, ProviderFetch, utcnow
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.providers")


@dataclass(frozen=True)
class FetchRecord:
    provider: str
    kind: str
    subject: str | None
    status: FetchStatus
    latency_ms: float
    retries: int = 0
    rows: int = 0
    quality_score: float | None = None
    quality: dict[str, Any] | None = None
    error: str | None = None
    rejected: list[Rejected] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    # What the call says about the provider's health (GET /providers reads it back): True it
    # answered, False it failed, None nothing (our own budget refused the call).
    healthy: bool | None = None

    def columns(self) -> dict[str, Any]:
        """The `provider_fetches` row (without its id)."""
        return {
            "provider": clip(self.provider, 64),
            "kind": self.kind,
            "subject": clip(self.subject, 64),
            "status": self.status,
            "latency_ms": self.latency_ms,
            "retries": self.retries,
            "rows": self.rows,
            "quality_score": self.quality_score,
            "quality": self.quality,
            "error": clip(self.error, 1000),
            "started_at": self.started_at,
            "healthy": self.healthy,
        }

    def to_model(self) -> ProviderFetch:
        return ProviderFetch(**self.columns())


class FetchRecorder(Protocol):
    async def record(self, record: FetchRecord) -> None: ...


class MemoryFetchRecorder:
    """Keeps records in a list (tests, and runtimes built without a database)."""

    def __init__(self) -> None:
        self.records: list[FetchRecord] = []

    async def record(self, record: FetchRecord) -> None:
        self.records.append(record)


class DatabaseFetchRecorder:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(self, record: FetchRecord) -> None:
        try:
            async with self.database.session() as session:
                await ProviderFetchRepository(session).add_with_quarantine(
                    record.to_model(), record.rejected
                )
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "providers.record_failed",
                provider=record.provider,
                kind=record.kind,
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
