"""Dependencies shared by every endpoint: settings and the transactional sessions (the
primary's, and the read replica's for reads that may lag)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.kit.app_state import app_state


async def get_app_settings(request: Request) -> Settings:
    # async: a plain def would be sent to the thread pool on every request.
    return app_state(request.app).settings


def app_database(request: Request) -> Database:
    return app_state(request.app).db


async def get_database(request: Request) -> Database:
    # async for the same reason as get_app_settings.
    return app_database(request)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commit when the endpoint returns, roll back if it raises."""
    async with app_database(request).session() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A unit of work on the read replica (`Database.replica`; the primary when none is set):
    for GET endpoints that only read, and may lag the primary by the replication delay."""
    async with app_database(request).replica.session() as session:
        yield session


async def serialize_writes(request: Request) -> AsyncIterator[None]:
    """Hold the process's SQLite write gate (`Database.serialized_writes`) around the request's
    unit of work: list it in the route's `dependencies`, which are entered before the session
    and left after its commit."""
    async with app_database(request).serialized_writes():
        yield


# scope="function": commit before the response is sent, so a 2xx means the data is stored.
SerializedWrites = Depends(serialize_writes, scope="function")
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
