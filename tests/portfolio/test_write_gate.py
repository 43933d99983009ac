"""SQLite's write gate: money writers of one process queue on an asyncio lock instead of
sleeping in SQLite's busy handler. Each placement batch's unit of work runs inside it, from
its first statement to its commit, and concurrent batches never overlap; PostgreSQL has no
gate (row locks serialize one account's writers there)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import event

from quantdesk.db import Database
from tests.support.paper import account_url, trader
from tests.support.paper_orders import listed, order, place


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_placements_run_one_at_a_time_inside_the_gate(
    client: httpx.AsyncClient, db: Database
) -> None:
    headers = await trader(client, db)
    url, _ = await account_url(client, headers, starting_cash="100000.00")
    await listed(db)
    gate = db._write_gate
    assert gate is not None
    seen: list[tuple[str, bool]] = []
    writers: set[int] = set()

    def on_execute(connection: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("UPDATE paper_accounts SET version"):  # a batch's lock
            writers.add(id(connection))
            seen.append(("lock", gate.locked()))

    def on_commit(connection: object) -> None:
        if id(connection) in writers:
            writers.discard(id(connection))
            seen.append(("commit", gate.locked()))

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        body = order(type="limit", limit_price="100", qty="1")
        answers = await asyncio.gather(*(place(client, headers, url, body) for _ in range(8)))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    assert [answer.status_code for answer in answers] == [201] * 8
    # Every batch (group commit: 1 to 8 of them) locked and committed holding the gate,
    # strictly one after another.
    batches = len(seen) // 2
    assert 1 <= batches <= 8
    assert seen == [("lock", True), ("commit", True)] * batches


async def test_postgresql_has_no_gate(database_url: str, db: Database) -> None:
    assert (db._write_gate is None) == (db.dialect == "postgresql")
    async with db.serialized_writes():  # a no-op there, the lock here
        assert db._write_gate is None or db._write_gate.locked()
