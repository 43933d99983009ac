"""Database engines and the request-scoped session.

The session dependency owns the transaction (ARCHITECTURE.md): it commits when the endpoint
returns and rolls back when it raises. Services only `flush()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from quantdesk.config import Settings
from quantdesk.errors import AppError


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while a writer commits; NORMAL sync is durable across app crashes
    # (not power loss), the usual trade-off for WAL. busy_timeout waits instead of failing fast
    # when another process holds the write lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Database:
    """One engine and its session factory; lives on `app.state.db` for the app's lifetime.

    `replica` is where read-only queries that may lag a little go: a second `Database` on
    `database_read_url` (a PostgreSQL streaming replica) when that is set, else this one.
    Writes, and reads that must see this request's own writes, stay on the primary."""

    def __init__(self, settings: Settings, *, url: str | None = None) -> None:
        self.url = url or settings.database_url
        self.engine = create_engine(self.url)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time, and a transaction that finds the write lock taken
        # sleeps in SQLite's busy handler (1 ms, 2, 5, ... up to 100 ms per retry) even after the
        # lock is free again. Money writers of this process (order placement, the desk) queue
        # on this lock instead, so the next one starts the moment the previous one commits.
        # PostgreSQL locks rows and needs none of this.
        self._write_gate = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        read_url = settings.database_read_url if url is None else None
        self.replica: Database = Database(settings, url=read_url) if read_url else self

    @asynccontextmanager
    async def serialized_writes(self) -> AsyncIterator[None]:
        """Hold this process's SQLite write gate (a no-op on PostgreSQL)."""
        if self._write_gate is None:
            yield
            return
        async with self._write_gate:
            yield

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on any error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except AppError as error:
                await (session.commit() if error.keep_changes else session.rollback())
                raise
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica is not self:
            await self.replica.dispose()


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction commits (never on rollback): for side
    effects that must not be seen before the data is, such as dropping cached copies."""

    def run(_session: object) -> None:
        callback()

    event.listen(session.sync_session, "after_commit", run, once=True)


_after_commit_tasks: set[asyncio.Task[Any]] = set()


def after_commit_async(session: AsyncSession, work: Callable[[], Awaitable[Any]]) -> None:
    """`after_commit` for async work: started as a task on the running loop at commit."""

    def start() -> None:
        task = asyncio.get_running_loop().create_task(_run(work))
        _after_commit_tasks.add(task)
        task.add_done_callback(_after_commit_tasks.discard)

    after_commit(session, start)


async def after_commit_work_done() -> None:
    """Wait for the async after-commit work started so far (tests, orderly shutdowns)."""
    if _after_commit_tasks:
        await asyncio.gather(*list(_after_commit_tasks), return_exceptions=True)


async def _run(work: Callable[[], Awaitable[Any]]) -> None:
    await work()
