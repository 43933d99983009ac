"""Exports: accept (validated, owner-checked), execute (queued -> running -> completed |
failed, the file written in bounded memory), read back with a fresh signed link, delete, and
purge after `exports_retention_days`."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.backtest.service import backtest_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import AppError, Forbidden, Unprocessable, field_error
from quantdesk.exports.errors import ExportNotFound, ExportNotReady, TooManyExports
from quantdesk.exports.events import ExportReady
from quantdesk.exports.links import sign
from quantdesk.exports.pipeline import ExportJob, produce
from quantdesk.exports.repository import ExportRepository
from quantdesk.exports.schemas import (
    AuditExport,
    BacktestTradesExport,
    BarsExport,
    ColumnInfo,
    ExportCreate,
    ExportFormat,
    ExportKind,
    ExportRead,
    LedgerExport,
    Manifest,
    OrdersExport,
)
from quantdesk.exports.storage import build_storage, staging_dir
from quantdesk.exports.writers import EXTENSIONS
from quantdesk.infra.events import EventBus, emit
from quantdesk.kit.pagination import decode_time_id_cursor, split_page, time_id_key
from quantdesk.marketdata.service import InstrumentNotFound, instrument_service
from quantdesk.models import BacktestStatus, Export, ExportStatus, utcnow
from quantdesk.observability.logging import get_logger
from quantdesk.portfolio.accounts import account_service

log = get_logger("quantdesk.exports")
ERROR_MAX_CHARS = 2_000
PROGRESS_EVERY_SECONDS = 0.5
PURGE_BATCH = 500


class _Deleted(Exception):
    """The export was deleted while it ran."""


class ExportService:
    # --- accepting ---------------------------------------------------------------------
    async def create(
        self, session: AsyncSession, settings: Settings, principal: Principal, body: ExportCreate
    ) -> Export:
        """Check the request against what is stored and who asks; queue the export."""
        user_id = principal.user_id
        assert user_id is not None
        params = await self._resolve(session, principal, body)
        repository = ExportRepository(session)
        if await repository.active_count(user_id) >= settings.exports_max_active_per_user:
            raise TooManyExports(
                f"you have {settings.exports_max_active_per_user} exports queued or running; "
                "wait for one to finish (or DELETE one)"
            )
        export = Export(
            id=secrets.token_hex(16),
            user_id=user_id,
            kind=body.kind,
            format=body.format.value,
            params=params,
            status=ExportStatus.QUEUED,
            progress=0.0,
        )
        await repository.add(export)
        return export

    async def _resolve(
        self, session: AsyncSession, principal: Principal, body: ExportCreate
    ) -> dict[str, Any]:
        user_id = principal.user_id
        assert user_id is not None
        if isinstance(body, AuditExport) and not principal.has(Scope.SYSTEM_ADMIN):
            raise Forbidden("exporting the audit log needs the system:admin scope")
        if isinstance(body, BarsExport):
            try:
                instrument = await instrument_service.get(session, body.params.symbol)
            except InstrumentNotFound as error:
                raise Unprocessable(
                    error.detail,
                    errors=[field_error(["body", "params", "symbol"], "no such instrument")],
                ) from error
            body.params.symbol = instrument.symbol
        elif isinstance(body, OrdersExport | LedgerExport):
            await account_service.get_owned(session, user_id, body.params.account_id)
        elif isinstance(body, BacktestTradesExport):
            run = await backtest_service.get(session, user_id=user_id, run_id=body.params.run_id)
            if run.status is not BacktestStatus.COMPLETED:
                raise ExportNotReady(
                    f"backtest {body.params.run_id} is {run.status.value}: its trades can be "
                    "exported once it has completed"
                )
        params: dict[str, Any] = body.params.model_dump(mode="json", exclude_none=True)
        return params

    # --- executing (the `exports.run` job, tasks.py) -------------------------------------
    async def execute(
        self, db: Database, settings: Settings, export_id: str, bus: EventBus | None
    ) -> None:
        """Produce the file of a queued export and mark it completed (emitting
        `export_ready`) or failed. An export that is not queued is left alone."""
        async with db.session() as session:
            repository = ExportRepository(session)
            started = await repository.set_values(
                export_id,
                only_from=ExportStatus.QUEUED,
                status=ExportStatus.RUNNING,
                started_at=utcnow(),
            )
            export = await repository.by_id(export_id) if started else None
        if export is None:
            return
        fmt = ExportFormat(export.format)
        extension = EXTENSIONS[fmt]
        staging = staging_dir(settings) / f"{export_id}.{extension}"
        key = f"{export.user_id}/{export_id}.{extension}"
        storage = build_storage(settings)
        last = [time.monotonic()]

        async def progress(rows: int, expected: int) -> None:
            now = time.monotonic()
            if now - last[0] < PROGRESS_EVERY_SECONDS:
                return
            last[0] = now
            async with db.session() as session:
                alive = await ExportRepository(session).set_values(
                    export_id, progress=round(min(rows / max(expected, 1), 0.99), 4)
                )
            if not alive:
                raise _Deleted

        job = ExportJob(ExportKind(export.kind), fmt, export.params, export.user_id)
        try:
            produced = await produce(
                db,
                job,
                staging,
                batch_rows=settings.exports_batch_rows,
                max_rows_per_sheet=settings.exports_xlsx_max_rows_per_sheet,
                progress=progress,
            )
            await storage.put(staging, key)
            async with db.session() as session:
                done = await ExportRepository(session).set_values(
                    export_id,
                    only_from=ExportStatus.RUNNING,
                    status=ExportStatus.COMPLETED,
                    progress=1.0,
                    finished_at=utcnow(),
                    rows=produced.rows,
                    bytes=produced.bytes,
                    sha256=produced.sha256,
                    columns=produced.columns,
                    as_of=produced.as_of,
                    storage_key=key,
                )
                if done:
                    ready = ExportReady(
                        export_id=export_id,
                        user_id=export.user_id,
                        kind=export.kind,
                        format=export.format,
                        rows=produced.rows,
                        bytes=produced.bytes,
                        sha256=produced.sha256,
                        url=f"/api/v1/exports/{export_id}",
                    )
                    await emit(session, bus, [ready])
            if not done:  # deleted meanwhile
                await storage.delete(key)
        except _Deleted:
            return
        except Exception as error:
            await self._fail(db, export_id, _describe(error, export_id))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._fail(db, export_id, "interrupted: the server stopped during the export")
            raise

    async def _fail(self, db: Database, export_id: str, message: str) -> None:
        try:
            async with db.session() as session:
                await ExportRepository(session).set_values(
                    export_id,
                    status=ExportStatus.FAILED,
                    finished_at=utcnow(),
                    error=message[:ERROR_MAX_CHARS],
                )
        except Exception:
            log.exception("could not record a failed export", export_id=export_id, error=message)

    # --- reading --------------------------------------------------------------------------
    async def get(
        self,
        session: AsyncSession,
        settings: Settings,
        *,
        user_id: int,
        export_id: str,
        link_ttl: int | None = None,
    ) -> ExportRead:
        export = await ExportRepository(session).owned(export_id, user_id)
        if export is None:
            raise ExportNotFound(export_id)
        return present(export, settings, link_ttl)

    async def owned(self, session: AsyncSession, export_id: str) -> Export | None:
        """The export record, whoever owns it (the download checks the token against it)."""
        return await ExportRepository(session).by_id(export_id)

    async def list(
        self,
        session: AsyncSession,
        settings: Settings,
        *,
        user_id: int,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[ExportRead], str | None]:
        after = decode_time_id_cursor(cursor) if cursor is not None else None
        rows = await ExportRepository(session).owned_page(user_id, after=after, limit=limit + 1)
        page, next_cursor = split_page(rows, limit, key=lambda e: time_id_key(e.created_at, e.id))
        return [present(export, settings, None) for export in page], next_cursor

    async def delete(
        self, session: AsyncSession, settings: Settings, *, user_id: int, export_id: str
    ) -> None:
        """Forget the export and remove its file; a running export stops at its next batch."""
        repository = ExportRepository(session)
        export = await repository.owned(export_id, user_id)
        if export is None:
            raise ExportNotFound(export_id)
        await repository.remove(export_id)
        if export.storage_key:
            await build_storage(settings).delete(export.storage_key)

    async def purge(self, db: Database, settings: Settings, *, now: datetime | None = None) -> int:
        """Delete exports (records and files) older than `exports_retention_days`."""
        cutoff = (now or utcnow()) - timedelta(days=settings.exports_retention_days)
        storage = build_storage(settings)
        purged = 0
        while True:
            async with db.session() as session:
                batch = await ExportRepository(session).older_than(cutoff, PURGE_BATCH)
            if not batch:
                return purged
            for export_id, key in batch:
                if key:
                    await storage.delete(key)
                async with db.session() as session:
                    await ExportRepository(session).remove(export_id)
                purged += 1


def present(export: Export, settings: Settings, link_ttl: int | None) -> ExportRead:
    manifest = None
    url = expires_at = None
    if export.status is ExportStatus.COMPLETED and export.sha256 is not None:
        assert export.rows is not None
        assert export.bytes is not None
        assert export.as_of is not None
        manifest = Manifest(
            rows=export.rows,
            bytes=export.bytes,
            sha256=export.sha256,
            columns=[ColumnInfo.model_validate(column) for column in export.columns or []],
            as_of=export.as_of,
        )
        ttl = link_ttl or settings.exports_link_ttl_seconds
        expires = int(time.time()) + ttl
        token = sign(settings, export.id, export.user_id, expires)
        url = f"/api/v1/exports/{export.id}/download?token={token}"
        expires_at = datetime.fromtimestamp(expires, tz=utcnow().tzinfo)
    return ExportRead(
        id=export.id,
        kind=ExportKind(export.kind),
        format=ExportFormat(export.format),
        params=export.params,
        status=export.status,
        progress=export.progress,
        manifest=manifest,
        download_url=url,
        download_expires_at=expires_at,
        error=export.error,
        created_at=export.created_at,
        started_at=export.started_at,
        finished_at=export.finished_at,
    )


def _describe(error: Exception, export_id: str) -> str:
    if isinstance(error, AppError):
        return error.detail
    log.error("export failed", export_id=export_id, exc_info=error)
    return f"internal error while exporting (logged as export {export_id})"


export_service = ExportService()
