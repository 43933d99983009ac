"""The built-in jobs: retention clean-up and fetching new bars through the bars provider chain
(idempotent, both databases)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.cache import CacheStatus, build_cache, install_cache
from quantdesk.jobs import registry
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.jobs.registry import JobContext, TaskSpec, get_task
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.demo import load_demo
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.models import (
    AlertEvent,
    AlertLevel,
    Bar,
    FetchStatus,
    JobRun,
    JobStatus,
    ProviderFetch,
    QuarantinedRow,
    utcnow,
)
from quantdesk.tasks import load_tasks
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.jobs import RecordedSleep, job_runs, write_bars_csv


async def _count(db: Database, model: type[Bar | JobRun | ProviderFetch | QuarantinedRow]) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_cleanup_deletes_records_past_their_retention(
    runner: InProcessRunner, jobs_db: Database, job_settings: Settings
) -> None:
    now = utcnow()
    async with jobs_db.session() as session:
        old_fetch = ProviderFetch(
            provider="csv",
            kind="bars",
            subject="TEST",
            status=FetchStatus.SUCCESS,
            latency_ms=1.0,
            started_at=now - timedelta(days=31),
        )
        new_fetch = ProviderFetch(
            provider="csv", kind="bars", status=FetchStatus.FAILED, latency_ms=1.0
        )
        session.add_all([old_fetch, new_fetch])
        await session.flush()
        session.add_all(
            [
                QuarantinedRow(
                    fetch_id=old_fetch.id,
                    provider="csv",
                    kind="bars",
                    reason="high < low",
                    row={"high": 1, "low": 2},
                    created_at=now - timedelta(days=91),
                ),
                QuarantinedRow(
                    fetch_id=old_fetch.id,
                    provider="csv",
                    kind="bars",
                    reason="high < low",
                    row={},
                    created_at=now - timedelta(days=89),
                ),
                JobRun(
                    name="old.run",
                    args={},
                    status=JobStatus.SUCCEEDED,
                    runner="inprocess",
                    created_at=now - timedelta(days=31),
                ),
                JobRun(name="recent.run", args={}, status=JobStatus.FAILED, runner="celery"),
            ]
        )

    await runner.enqueue("maintenance.cleanup")
    await runner.drain()

    assert await _count(jobs_db, ProviderFetch) == 1
    assert await _count(jobs_db, QuarantinedRow) == 1  # its fetch is gone: fetch_id set NULL
    names = [run.name for run in await job_runs(jobs_db)]
    assert names == ["recent.run", "maintenance.cleanup"]
    [cleanup] = await job_runs(jobs_db, "maintenance.cleanup")
    assert cleanup.status is JobStatus.SUCCEEDED


async def test_cleanup_deletes_alert_events_past_their_retention(
    runner: InProcessRunner, jobs_db: Database, job_settings: Settings
) -> None:
    job_settings.alert_event_retention_days = 7
    now = utcnow()
    async with jobs_db.session() as session:
        session.add_all(
            [
                AlertEvent(
                    metric=f"m{age}",
                    level=AlertLevel.WARNING,
                    previous_level=AlertLevel.OK,
                    message="p95 latency above 0.5 s",
                    instance="host:1",
                    created_at=now - timedelta(days=age),
                )
                for age in (8, 6)
            ]
        )

    await runner.enqueue("maintenance.cleanup")
    await runner.drain()

    async with jobs_db.session() as session:
        kept = (await session.scalars(select(AlertEvent.metric))).all()
    assert kept == ["m6"]


async def test_fetch_bars_stores_only_bars_newer_than_those_stored(
    runner: InProcessRunner, jobs_db: Database, bars_dir: Path
) -> None:
    await create_instrument(jobs_db, "TEST")
    history = synthetic_bars(40)
    await load_bars(jobs_db, "TEST", history.slice(0, 30))
    # The file repeats 10 stored bars, with different prices, then brings 10 new ones.
    changed = synthetic_bars(40, seed=99)
    write_bars_csv(bars_dir, "TEST", "1d", changed.slice(20, 40))

    await runner.enqueue("marketdata.fetch_bars")
    await runner.drain()

    async with jobs_db.session() as session:
        rows = (await session.execute(select(Bar.ts, Bar.close).order_by(Bar.ts))).all()
    assert len(rows) == 40
    assert [close for _, close in rows[:30]] == pytest.approx(history.close[:30].tolist())
    assert [close for _, close in rows[30:]] == pytest.approx(changed.close[30:].tolist())

    await runner.enqueue("marketdata.fetch_bars")  # nothing new: nothing written
    await runner.drain()
    assert await _count(jobs_db, Bar) == 40
    runs = await job_runs(jobs_db, "marketdata.fetch_bars")
    assert [run.status for run in runs] == [JobStatus.SUCCEEDED] * 2


async def test_fetch_bars_asks_the_chain_for_what_follows_the_last_stored_bar(
    jobs_db: Database, job_settings: Settings, bars_dir: Path
) -> None:
    await create_instrument(jobs_db, "TEST")
    await load_bars(jobs_db, "TEST", synthetic_bars(30))
    write_bars_csv(bars_dir, "TEST", "1d", synthetic_bars(35))

    result = await _run_directly(jobs_db, job_settings)

    assert (result.rows_written, result.written, result.skipped) == (5, {"TEST:1d": 5}, [])
    assert result.providers == {"TEST:1d": "csv"}
    async with jobs_db.session() as session:
        fetches = (await session.scalars(select(ProviderFetch))).all()
    # One recorded call to the chain's first provider, which answered the 5 new bars only.
    assert [(f.provider, f.kind, f.subject, f.status, f.rows) for f in fetches] == [
        ("csv", "bars", "TEST", FetchStatus.SUCCESS, 5)
    ]


async def test_new_bars_start_signal_generation(
    runner: InProcessRunner,
    jobs_db: Database,
    bars_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generated: list[tuple[list[str], str]] = []

    async def generate(ctx: JobContext, *, symbols: list[str], timeframe: str) -> None:
        generated.append((symbols, timeframe))

    monkeypatch.setitem(
        registry._REGISTRY, "signals.generate", TaskSpec("signals.generate", generate)
    )
    for symbol, timeframe, step in (
        ("AAA", "1d", 86_400),
        ("BBB", "1d", 86_400),
        ("CCC", "1h", 3600),
    ):
        await create_instrument(jobs_db, symbol)
        await load_bars(jobs_db, symbol, synthetic_bars(3, step=step), Timeframe(timeframe))
        write_bars_csv(bars_dir, symbol, timeframe, synthetic_bars(5, step=step))

    await runner.enqueue("marketdata.fetch_bars")
    await runner.drain()
    assert sorted(generated) == [(["AAA", "BBB"], "1d"), (["CCC"], "1h")]

    await runner.enqueue("marketdata.fetch_bars")  # no new bars: no new signals run
    await runner.drain()
    assert len(generated) == 2


async def test_a_series_no_provider_has_is_skipped_with_its_reason_not_failed(
    runner: InProcessRunner, jobs_db: Database, bars_dir: Path, backoff: RecordedSleep
) -> None:
    """A symbol ingested from a CSV file that no provider serves: the run goes on every 15
    minutes without failing (nor alerting) on it, and says why it was left alone."""
    await create_instrument(jobs_db, "GOOD")
    await load_bars(jobs_db, "GOOD", synthetic_bars(12, step=3600), Timeframe.H1)
    write_bars_csv(bars_dir, "GOOD", "1h", synthetic_bars(24, step=3600))
    await create_instrument(jobs_db, "NOFILE")
    await load_bars(jobs_db, "NOFILE", synthetic_bars(3))

    await runner.enqueue("marketdata.fetch_bars")
    await runner.drain()

    async with jobs_db.session() as session:
        stored = await session.scalar(
            select(func.count()).select_from(Bar).where(Bar.timeframe == Timeframe.H1)
        )
    assert stored == 24
    [run] = await job_runs(jobs_db, "marketdata.fetch_bars")
    assert (run.status, run.attempts, run.error) == (JobStatus.SUCCEEDED, 1, None)
    assert run.result is not None
    assert run.result["skipped"] == [
        {"subject": "NOFILE:1d", "reason": "no provider has bars for 'NOFILE'"}
    ]
    assert (run.result["rows_written"], run.result["written"]) == (12, {"GOOD:1h": 12})
    assert backoff.delays == []


async def test_a_series_no_provider_could_answer_is_retried(
    runner: InProcessRunner,
    jobs_db: Database,
    job_settings: Settings,
    bars_dir: Path,
    backoff: RecordedSleep,
) -> None:
    await create_instrument(jobs_db, "GOOD")
    await load_bars(jobs_db, "GOOD", synthetic_bars(3))
    write_bars_csv(bars_dir, "GOOD", "1d", synthetic_bars(5))
    await create_instrument(jobs_db, "BROKEN")
    await load_bars(jobs_db, "BROKEN", synthetic_bars(3))
    # The provider answers, but not with bars: the chain has no answer for this series.
    (bars_dir / "BROKEN_1d.csv").write_text("when,price\n2024-02-01,1\n")

    await runner.enqueue("marketdata.fetch_bars")
    await runner.drain()

    [run] = await job_runs(jobs_db, "marketdata.fetch_bars")
    assert (run.status, run.attempts) == (JobStatus.FAILED, job_settings.jobs_max_retries + 1)
    assert run.error is not None
    assert run.error.startswith("ProvidersUnavailable: BROKEN:1d: no provider could answer")
    assert "GOOD" not in run.error
    assert run.result is not None and run.result["written"] == {"GOOD:1d": 0}  # the last try's
    assert backoff.delays == [2.0, 4.0]
    assert await _count(jobs_db, Bar) == 5 + 3  # GOOD's 2 new bars, stored once


async def test_fetch_bars_leaves_inactive_instruments_alone(
    jobs_db: Database, job_settings: Settings, bars_dir: Path
) -> None:
    await create_instrument(jobs_db, "GONE", active=False)
    await load_bars(jobs_db, "GONE", synthetic_bars(3))
    write_bars_csv(bars_dir, "GONE", "1d", synthetic_bars(5))
    result = await _run_directly(jobs_db, job_settings)
    assert result.did_nothing and result.reason == "no active instrument has bars stored"
    assert await _count(jobs_db, Bar) == 3


async def test_fetch_bars_without_a_bars_chain_does_nothing(
    jobs_db: Database, job_settings: Settings, bars_dir: Path
) -> None:
    await create_instrument(jobs_db, "TEST")
    await load_bars(jobs_db, "TEST", synthetic_bars(3))
    write_bars_csv(bars_dir, "TEST", "1d", synthetic_bars(5))
    job_settings.providers_bars = []
    result = await _run_directly(jobs_db, job_settings)
    assert result.reason == "no bars provider chain (QUANTDESK_PROVIDERS_BARS is empty)"
    assert await _count(jobs_db, Bar) == 3


async def test_fetch_bars_keeps_the_demo_series_without_any_file(
    jobs_db: Database, job_settings: Settings
) -> None:
    """What `quantdesk serve` does by default: the files provider serves the bundled demo
    series, so a fully loaded demo is up to date and the run succeeds."""
    async with jobs_db.session() as session:
        await load_demo(session)
    job_settings.providers_files_demo = True
    result = await _run_directly(jobs_db, job_settings)
    assert result.written == {"BTCUSD:1M": 0, "EURUSD:1h": 0, "GOOG:1d": 0}
    assert not result.did_nothing


async def _run_directly(db: Database, settings: Settings) -> Any:
    """The task function itself, outside any runner (its follow-up jobs are refused)."""

    async def no_follow_ups(name: str, **args: Any) -> None:
        raise AssertionError(f"unexpected follow-up job {name}")

    load_tasks()
    settings.jobs_signals_after_bars = False
    context = JobContext(
        db=db,
        settings=settings,
        name="marketdata.fetch_bars",
        task_id="t",
        attempt=1,
        enqueue=no_follow_ups,
    )
    return await get_task("marketdata.fetch_bars").fn(context)


async def test_signal_jobs_run_the_signals_service(
    runner: InProcessRunner, jobs_db: Database
) -> None:
    if "signals.generate" not in registry.registered():
        pytest.skip("the signals domain is not installed")
    await create_instrument(jobs_db, "TEST")
    await load_bars(jobs_db, "TEST", synthetic_bars(300))
    await runner.enqueue("signals.generate", symbols=["TEST"], timeframe="1d")
    await runner.enqueue("signals.evaluate")
    await runner.enqueue("signals.generate", timeframe="2d")
    await runner.drain()
    runs = {run.name + str(run.args): run for run in await job_runs(jobs_db)}
    assert runs["signals.generate{'symbols': ['TEST'], 'timeframe': '1d'}"].status is (
        JobStatus.SUCCEEDED
    )
    assert runs["signals.evaluate{}"].status is JobStatus.SUCCEEDED
    bad = runs["signals.generate{'timeframe': '2d'}"]
    assert (bad.status, bad.attempts) == (JobStatus.FAILED, 1)
    assert bad.error == "PermanentJobError: unknown timeframe '2d'"


async def test_fetched_bars_drop_the_serving_apps_cached_quote(
    runner: InProcessRunner, jobs_db: Database, bars_dir: Path, job_settings: Settings
) -> None:
    await create_instrument(jobs_db, "TEST")
    history = synthetic_bars(40)
    await load_bars(jobs_db, "TEST", history.slice(0, 30))
    cache = build_cache(job_settings)
    install_cache(cache)
    try:
        first, status = await quote_service.latest(jobs_db, cache, "TEST")
        assert status is CacheStatus.MISS
        assert (await quote_service.latest(jobs_db, cache, "TEST"))[1] is CacheStatus.HIT
        write_bars_csv(bars_dir, "TEST", "1d", history.slice(30, 40))
        await runner.enqueue("marketdata.fetch_bars")
        await runner.drain()
        await asyncio.sleep(0)  # the invalidation task started at commit
        await cache.wait_background()
        after, status = await quote_service.latest(jobs_db, cache, "TEST")
    finally:
        install_cache(None)
        await cache.aclose()
    assert status is CacheStatus.MISS
    assert after["price"] == pytest.approx(history.close[39])
    assert first["price"] == pytest.approx(history.close[29])
