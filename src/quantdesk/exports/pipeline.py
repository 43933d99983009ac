"""Producing one export's file: stream the query in batches into a format writer.

Memory stays bounded by one batch in flight plus the one being written: rows are read
`exports_batch_rows` at a time (a server-side cursor on PostgreSQL, `fetchmany` on SQLite),
turned into an Arrow record batch and handed to the writer in a worker thread while the next
batch is read. The whole read is one statement (one snapshot), so the file holds exactly the
rows the query matched when it ran (`as_of`); the manifest counts the rows written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from quantdesk.db import Database
from quantdesk.exports.schemas import ExportFormat, ExportKind
from quantdesk.exports.sources import Column, Source, arrow_schema, source_for, to_batch
from quantdesk.exports.writers import Writer, digest, open_writer
from quantdesk.models import utcnow

# progress(rows written, rows expected): awaited after every batch.
Progress = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class Produced:
    rows: int
    bytes: int
    sha256: str
    columns: list[dict[str, str]]
    as_of: datetime


@dataclass(frozen=True)
class ExportJob:
    kind: ExportKind
    format: ExportFormat
    params: dict[str, Any]
    user_id: int


def _write(writer: Writer, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    writer.write(to_batch(columns, rows))


async def write_source(
    source: Source,
    conn: Any,
    writer: Writer,
    *,
    batch_rows: int,
    progress: Progress | None = None,
    expected: int = 0,
) -> int:
    """Stream ``source`` into ``writer`` (closed on success); the rows written."""
    pending: asyncio.Future[None] | None = None
    rows = 0
    try:
        async for part in source.batches(conn, batch_rows):
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(
                anyio.to_thread.run_sync(_write, writer, source.columns, part)
            )
            rows += len(part)
            if progress is not None:
                await progress(rows, max(expected, rows))
        if pending is not None:
            await pending
            pending = None
        await anyio.to_thread.run_sync(writer.close)
    except BaseException:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
        await anyio.to_thread.run_sync(writer.abort)
        raise
    return rows


async def produce(
    db: Database,
    job: ExportJob,
    staging: Path,
    *,
    batch_rows: int,
    max_rows_per_sheet: int,
    progress: Progress | None = None,
) -> Produced:
    """Write ``job``'s rows to ``staging``; the file's manifest. The staging file is removed
    when anything fails (or the job is cancelled)."""
    try:
        async with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # count and rows from one snapshot
                await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                as_of = utcnow()
                source = await source_for(conn, job.kind, job.params, job.user_id)
                expected = await source.total(conn)
                schema = arrow_schema(source.columns)
                writer = await anyio.to_thread.run_sync(
                    lambda: open_writer(
                        job.format, staging, schema, max_rows_per_sheet=max_rows_per_sheet
                    )
                )
                rows = await write_source(
                    source,
                    conn,
                    writer,
                    batch_rows=batch_rows,
                    progress=progress,
                    expected=expected,
                )
        size, sha256 = await anyio.to_thread.run_sync(digest, staging)
    except BaseException:
        await anyio.Path(staging).unlink(missing_ok=True)
        raise
    columns = [{"name": column.name, "type": column.type_name} for column in source.columns]
    return Produced(rows=rows, bytes=size, sha256=sha256, columns=columns, as_of=as_of)
