"""`emit`: transactional hooks run inside the cause's transaction; the bus hears the events
only once it commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import Database, after_commit_work_done
from quantdesk.infra.events import (
    Event,
    MarketEvent,
    MemoryEventBus,
    emit,
    on_emit,
    remove_emit_hook,
)
from quantdesk.models.audit import AuditEvent

EVENT = MarketEvent("bar", "GOOG", "1d", 1_700_000_000, 1.0, 2.0, 0.5, 1.5, 10.0)


async def record_in_transaction(session: AsyncSession, events: Sequence[Event]) -> None:
    # Stands in for the webhooks outbox: a row written with the cause.
    for event in events:
        session.add(
            AuditEvent(action="emit.test", outcome="success", prev_hash="-", hash=event.topic)
        )
    await session.flush()


@pytest.fixture
async def hooked() -> AsyncIterator[None]:
    on_emit(record_in_transaction)
    on_emit(record_in_transaction)  # registering twice runs it once
    yield
    remove_emit_hook(record_in_transaction)


async def hook_rows(db: Database) -> int:
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "emit.test")
        )
    return int(count or 0)


async def test_a_committed_emit_keeps_the_hook_rows_and_publishes_after_commit(
    db: Database, hooked: None
) -> None:
    bus = MemoryEventBus()
    async with await bus.subscribe("market.") as subscription:
        async with db.session() as session:
            await emit(session, bus, [EVENT])
            await asyncio.sleep(0)
            assert len(subscription) == 0  # nothing before the commit
        await after_commit_work_done()
        delivered = await asyncio.wait_for(subscription.get(), 1)
    assert delivered.topic == EVENT.topic and delivered.payload == EVENT
    assert await hook_rows(db) == 1


async def test_a_rolled_back_emit_leaves_no_hook_rows_and_publishes_nothing(
    db: Database, hooked: None
) -> None:
    bus = MemoryEventBus()
    async with await bus.subscribe("market.") as subscription:

        async def failing_cause() -> None:
            async with db.session() as session:
                await emit(session, bus, [EVENT])
                raise RuntimeError("the cause fails")

        with pytest.raises(RuntimeError, match="the cause fails"):
            await failing_cause()
        await after_commit_work_done()
        assert len(subscription) == 0
    assert await hook_rows(db) == 0
