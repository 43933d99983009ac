"""Fetch records written off the request path, in batches: for chains on a hot request path.

`DatabaseFetchRecorder` writes each record in its own unit of work before the call returns;
on a quote miss that transaction costs as much server CPU as everything else together. The
batched recorder queues the record and returns; one task writes everything queued within
`max_delay_seconds` (default 0.2 s) in one unit of work, so records still land well within a
second (GET /providers derives provider health from them). `flush()` writes what is queued
now; `aclose()` flushes and stops (the provider runtime's shutdown). A failed write is logged
and its records dropped, as `DatabaseFetchRecorder` does: recording never fails an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from quantdesk.db import Database
from quantdesk.marketdata.providers.recorder import FetchRecord
from quantdesk.marketdata.providers.repository import clip
from quantdesk.models import ProviderFetch, QuarantinedRow
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.providers")

DEFAULT_MAX_DELAY_SECONDS = 0.2


class BatchedFetchRecorder:
    def __init__(
        self, database: Database, *, max_delay_seconds: float = DEFAULT_MAX_DELAY_SECONDS
    ) -> None:
        self.database = database
        self.max_delay_seconds = max_delay_seconds
        self._queued: list[FetchRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def record(self, record: FetchRecord) -> None:
        self._queued.append(record)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.max_delay_seconds)
        await self.flush()

    async def flush(self) -> None:
        """Write every record queued so far, in one unit of work."""
        async with self._lock:
            batch, self._queued = self._queued, []
            if batch:
                await self._write(batch)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()

    async def _write(self, batch: list[FetchRecord]) -> None:
        try:
            if not any(record.rejected for record in batch):
                # No quarantined rows to link: one multi-row INSERT, no ORM unit of work.
                async with self.database.engine.begin() as connection:
                    await connection.execute(
                        insert(ProviderFetch), [record.columns() for record in batch]
                    )
                return
            async with self.database.session() as session:
                models = [record.to_model() for record in batch]
                session.add_all(models)
                await session.flush()  # ids for the quarantined rows
                rows: list[dict[str, Any]] = [
                    {
                        "fetch_id": model.id,
                        "provider": model.provider,
                        "kind": model.kind,
                        "subject": model.subject,
                        "ts": item.ts,
                        "reason": clip(item.reason, 200),
                        "row": item.row,
                    }
                    for model, record in zip(models, batch, strict=True)
                    for item in record.rejected
                ]
                if rows:
                    await session.execute(insert(QuarantinedRow), rows)
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "providers.record_failed",
                records=len(batch),
                error=f"{type(exc).__name__}: {exc}"[:300],
            )
