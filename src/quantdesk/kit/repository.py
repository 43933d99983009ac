"""The generic repository base every domain repository builds on."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.models import Base

ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    model: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def get(self, pk: Any) -> ModelT | None:
        return await self.session.get(self.model, pk)

    async def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def driver_connection(self) -> Any:
        """The DBAPI driver's own connection (aiosqlite / asyncpg) inside this session's
        transaction, for bulk paths (executemany, COPY) that bypass the ORM on purpose."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection
