"""Quote-chain fetch records: written off the request path, in batches, within a second."""

from __future__ import annotations

import asyncio
from contextlib import _AsyncGeneratorContextManager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.providers.batched_recorder import BatchedFetchRecorder
from quantdesk.marketdata.providers.quality import Rejected
from quantdesk.marketdata.providers.recorder import FetchRecord
from quantdesk.models import FetchStatus, ProviderFetch, QuarantinedRow


def record(subject: str, *, rejected: list[Rejected] | None = None) -> FetchRecord:
    return FetchRecord(
        provider="polygon",
        kind="quotes",
        subject=subject,
        status=FetchStatus.SUCCESS,
        latency_ms=20.0,
        rows=1,
        rejected=rejected or [],
        healthy=True,
    )


async def stored(db: Database) -> tuple[list[ProviderFetch], list[QuarantinedRow]]:
    async with db.session() as session:
        fetches = (await session.scalars(select(ProviderFetch).order_by(ProviderFetch.id))).all()
        rows = (await session.scalars(select(QuarantinedRow))).all()
    return list(fetches), list(rows)


class CountingDatabase(Database):
    """The real database, counting the units of work opened on it."""

    units = 0

    def session(self) -> _AsyncGeneratorContextManager[AsyncSession]:
        self.units += 1
        return super().session()


async def test_queued_records_land_together_within_the_delay(
    db: Database, settings: Settings
) -> None:
    counting = CountingDatabase(settings)
    recorder = BatchedFetchRecorder(counting, max_delay_seconds=0.05)
    bad = Rejected("price is not positive", {"price": -1.0}, ts=1_704_067_200)
    for subject in ("AAPL", "MSFT"):
        await recorder.record(record(subject))
    await recorder.record(record("GOOG", rejected=[bad]))
    assert (await stored(db))[0] == []  # nothing written on the caller's path
    for _ in range(100):
        fetches, quarantined = await stored(db)
        if fetches:
            break
        await asyncio.sleep(0.01)
    assert [f.subject for f in fetches] == ["AAPL", "MSFT", "GOOG"]
    assert all(f.healthy and f.status is FetchStatus.SUCCESS for f in fetches)
    (row,) = quarantined
    assert row.fetch_id == fetches[2].id and row.reason == "price is not positive"
    assert counting.units == 1  # one unit of work for the three records
    await recorder.aclose()
    await counting.dispose()


async def test_closing_writes_what_is_queued(db: Database) -> None:
    recorder = BatchedFetchRecorder(db, max_delay_seconds=60.0)
    await recorder.record(record("AAPL"))
    await recorder.aclose()
    fetches, _ = await stored(db)
    assert [f.subject for f in fetches] == ["AAPL"]


async def test_batched_records_are_clipped_like_single_ones(db: Database) -> None:
    recorder = BatchedFetchRecorder(db, max_delay_seconds=60.0)
    await recorder.record(record("X" * 100))  # subject clipped to 64, still written
    await recorder.aclose()
    fetches, _ = await stored(db)
    assert fetches[0].subject == "X" * 64


async def test_a_batch_without_quarantined_rows_stores_what_one_with_them_does(
    db: Database,
) -> None:
    """Without rejected rows the batch is one multi-row INSERT, not an ORM unit of work: the
    stored columns are the same either way."""
    started = datetime(2026, 12, 4, 15, 30, 1, 250_000, tzinfo=UTC)
    bad = Rejected("price is not positive", {"price": -1.0}, ts=1_704_067_200)
    variants: dict[str, dict[str, Any]] = {
        "quality": {"quality_score": 0.9, "quality": {"rows": 1, "kept": 1}, "error": None},
        "failed": {"status": FetchStatus.FAILED, "healthy": None, "error": "e" * 1200},
    }
    for rejected in ([], [bad]):
        recorder = BatchedFetchRecorder(db, max_delay_seconds=60.0)
        for name, changes in variants.items():
            await recorder.record(
                replace(record(name, rejected=rejected), started_at=started, **changes)
            )
        await recorder.aclose()
    fetches, quarantined = await stored(db)
    assert len(quarantined) == 2

    def columns(fetch: ProviderFetch) -> dict[str, object]:
        return {
            c.key: getattr(fetch, c.key) for c in ProviderFetch.__table__.columns if c.key != "id"
        }

    plain, linked = fetches[:2], fetches[2:]
    assert [columns(f) for f in plain] == [columns(f) for f in linked]
    assert plain[0].quality == {"rows": 1, "kept": 1} and plain[0].started_at == started
    assert plain[1].healthy is None and plain[1].error == "e" * 1000
