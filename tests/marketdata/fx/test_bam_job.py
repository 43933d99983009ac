"""fx.fetch_bam: the day's BAM board stored as mid/buy/sell rows once (a rerun replaces), a
holiday's 204 and a missing key as skipped runs saying why, a 503 retried by the runner."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.marketdata.providers.bam import BANKNOTES_PATH, KEY_HEADER, TRANSFER_PATH
from quantdesk.models import FxRate, FxRateKind, JobStatus
from tests.support.fx import BAM_KEY
from tests.support.jobs import RecordedSleep, job_runs
from tests.support.provider_fakes import FakeServer, Reply, payload

NAME = "fx.fetch_bam"


def _route(server: FakeServer, *replies: Reply) -> None:
    server.route("/" + BANKNOTES_PATH, *(replies or (Reply(body=payload("bam_cours_bbe.json")),)))
    server.route(
        "/" + TRANSFER_PATH, *(replies or (Reply(body=payload("bam_cours_virement.json")),))
    )


async def _rows(db: Database) -> list[FxRate]:
    async with db.session() as session:
        return list((await session.scalars(select(FxRate))).all())


async def test_the_board_is_stored_once_per_kind(
    runner: InProcessRunner, jobs_db: Database, server: FakeServer
) -> None:
    _route(server)
    for _ in range(2):
        await runner.enqueue(NAME, day="2026-10-30")
        await runner.drain()

    runs = await job_runs(jobs_db, NAME)
    assert [(run.status, run.attempts) for run in runs] == [(JobStatus.SUCCEEDED, 1)] * 2
    assert runs[0].result is not None and runs[0].result["written"] == {"MAD 2026-10-30": 30}
    rows = await _rows(jobs_db)
    assert len(rows) == 30  # 10 currencies x mid/buy/sell, duplicates dropped, rerun replaced
    found = {(row.base, row.kind): row for row in rows}
    assert {row.source for row in rows} == {"bam"} and {row.quote for row in rows} == {"MAD"}
    assert found[("USD", FxRateKind.MID)].rate == 9.74
    assert found[("USD", FxRateKind.BUY)].rate == 8.9621
    assert found[("JPY", FxRateKind.SELL)].rate == pytest.approx(0.06609)  # 6.6090 per 100
    assert found[("EUR", FxRateKind.MID)].day == dt.date(2026, 10, 30)
    seen = server.hits("/" + TRANSFER_PATH)[0]
    assert seen.headers[KEY_HEADER] == BAM_KEY and seen.query == {"date": ["2026-10-30"]}


async def test_a_holiday_is_a_skipped_run_not_a_failure(
    runner: InProcessRunner, jobs_db: Database, server: FakeServer
) -> None:
    _route(server, Reply(status=204))
    await runner.enqueue(NAME, day="2026-12-25")
    await runner.drain()
    [run] = await job_runs(jobs_db, NAME)
    assert (run.status, run.attempts, run.error) == (JobStatus.SKIPPED, 1, None)
    assert run.result is not None
    assert run.result["reason"] == "BAM published no rates for 2026-12-25 (holiday)"
    assert await _rows(jobs_db) == []


async def test_without_a_key_the_run_is_skipped_naming_the_setting(
    runner: InProcessRunner, jobs_db: Database, job_settings: Settings, server: FakeServer
) -> None:
    job_settings.bam_api_key = None
    await runner.enqueue(NAME)
    await runner.drain()
    [run] = await job_runs(jobs_db, NAME)
    assert run.status == JobStatus.SKIPPED and run.result is not None
    assert "QUANTDESK_BAM_API_KEY" in run.result["reason"]
    assert server.requests == []


async def test_a_server_error_is_retried_by_the_runner(
    runner: InProcessRunner, jobs_db: Database, server: FakeServer, backoff: RecordedSleep
) -> None:
    _route(server, Reply(503, b"<html>Service Unavailable</html>", "text/html"))
    await runner.enqueue(NAME)
    await runner.drain()
    [run] = await job_runs(jobs_db, NAME)
    assert (run.status, run.attempts) == (JobStatus.FAILED, 2)  # jobs_max_retries=1
    assert backoff.delays == [2.0] and run.error is not None and "bam" in run.error
    async with jobs_db.session() as session:
        assert await session.scalar(select(func.count()).select_from(FxRate)) == 0
