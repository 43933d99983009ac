"""SQL for backtest runs. Reads are scoped to the owner: another user's run is not found.

The trades and equity documents can be megabytes; the summary read leaves them out and the
trades / equity reads fetch only their own column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import defer, load_only

from quantdesk.kit.repository import Repository
from quantdesk.models import BacktestKind, BacktestRun, BacktestStatus


class BacktestRunRepository(Repository[BacktestRun]):
    model = BacktestRun

    async def owned(self, run_id: str, user_id: int) -> BacktestRun | None:
        """The run without its trades and equity documents (they raise if touched)."""
        statement = (
            select(BacktestRun)
            .options(
                defer(BacktestRun.trades, raiseload=True),
                defer(BacktestRun.equity, raiseload=True),
            )
            .where(BacktestRun.id == run_id, BacktestRun.user_id == user_id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def owned_page(
        self, user_id: int, *, after: tuple[datetime, str] | None, limit: int
    ) -> list[BacktestRun]:
        """Up to ``limit`` of the user's runs, newest first (created_at, then id, descending),
        after the ``(created_at, id)`` of the last run served; summary columns only."""
        statement = (
            select(BacktestRun)
            .options(
                load_only(
                    BacktestRun.id,
                    BacktestRun.kind,
                    BacktestRun.status,
                    BacktestRun.progress,
                    BacktestRun.symbol,
                    BacktestRun.timeframe,
                    BacktestRun.strategy,
                    BacktestRun.request,
                    BacktestRun.stats,
                    BacktestRun.error,
                    BacktestRun.created_at,
                    BacktestRun.started_at,
                    BacktestRun.finished_at,
                    raiseload=True,
                )
            )
            .where(BacktestRun.user_id == user_id)
            .order_by(BacktestRun.created_at.desc(), BacktestRun.id.desc())
            .limit(limit)
        )
        if after is not None:
            created, run_id = after
            statement = statement.where(
                or_(
                    BacktestRun.created_at < created,
                    and_(BacktestRun.created_at == created, BacktestRun.id < run_id),
                )
            )
        return list((await self.session.execute(statement)).scalars())

    async def owned_document(
        self, run_id: str, user_id: int, column: str
    ) -> tuple[BacktestKind, BacktestStatus, Any] | None:
        """(kind, status, the `trades` or `equity` document) of an owned run."""
        document = {"trades": BacktestRun.trades, "equity": BacktestRun.equity}[column]
        statement = select(BacktestRun.kind, BacktestRun.status, document).where(
            BacktestRun.id == run_id, BacktestRun.user_id == user_id
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1], row[2])

    async def by_idempotency_key(self, user_id: int, key: str) -> BacktestRun | None:
        statement = (
            select(BacktestRun)
            .options(
                defer(BacktestRun.trades, raiseload=True),
                defer(BacktestRun.equity, raiseload=True),
            )
            .where(BacktestRun.user_id == user_id, BacktestRun.idempotency_key == key)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def request_of(self, run_id: str) -> tuple[BacktestKind, BacktestStatus, dict[str, Any]]:
        row = (
            await self.session.execute(
                select(BacktestRun.kind, BacktestRun.status, BacktestRun.request).where(
                    BacktestRun.id == run_id
                )
            )
        ).one()
        return row[0], row[1], row[2]

    async def set_values(
        self, run_id: str, *, only_from: BacktestStatus | None = None, **values: Any
    ) -> bool:
        """UPDATE one run; with ``only_from``, only while it is in that status (so two
        workers cannot both start it). True when a row changed."""
        statement = update(BacktestRun).where(BacktestRun.id == run_id).values(**values)
        if only_from is not None:
            statement = statement.where(BacktestRun.status == only_from)
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))
