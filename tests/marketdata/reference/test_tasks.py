"""The reference-data jobs through the in-process runner, against a local server speaking
ECB's XML, FRED's JSON and Polygon's financials JSON: stored rows, idempotent reruns,
skipped when unconfigured, retried on provider failures, failed at once on unknown subjects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.models import (
    AssetClass,
    Base,
    FundamentalsSnapshot,
    FxRate,
    JobStatus,
    ProviderFetch,
    QuarantinedRow,
    SeriesKind,
    SeriesObservation,
)
from tests.support.factories import create_instrument
from tests.support.jobs import RecordedSleep, job_runs
from tests.support.provider_fakes import FakeServer, Reply, payload
from tests.support.reference_data import ECB_PATH, FINANCIALS_PATH, FRED_KEY, FRED_PATH, POLYGON_KEY

XML = "text/xml"
ECB_DAY = dt.date(2024, 1, 5)


async def _count(db: Database, model: type[Base]) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _run_twice(runner: InProcessRunner, name: str) -> None:
    for _ in range(2):
        await runner.enqueue(name)
        await runner.drain()


async def _statuses(db: Database, name: str) -> list[tuple[JobStatus, int]]:
    return [(run.status, run.attempts) for run in await job_runs(db, name)]


async def test_fx_job_stores_every_rate_of_each_base_once(
    runner: InProcessRunner, jobs_db: Database, server: FakeServer
) -> None:
    server.route(ECB_PATH, Reply(body=payload("eurofxref-daily.xml"), content_type=XML))

    await _run_twice(runner, "fx.fetch_rates")

    assert await _statuses(jobs_db, "fx.fetch_rates") == [(JobStatus.SUCCEEDED, 1)] * 2
    assert await _count(jobs_db, FxRate) == 60  # 30 per base, twice fetched, stored once
    async with jobs_db.session() as session:
        rates = {
            (row.base, row.quote): row for row in (await session.scalars(select(FxRate))).all()
        }
    assert rates["EUR", "USD"].rate == 1.0921 and rates["EUR", "USD"].day == ECB_DAY
    assert rates["USD", "EUR"].rate == pytest.approx(1 / 1.0921)
    assert rates["USD", "JPY"].rate == pytest.approx(158.08 / 1.0921)
    assert {row.provider for row in rates.values()} == {"ecb"}
    assert len(server.hits(ECB_PATH)) == 4  # two bases, two runs


async def test_economy_job_stores_series_and_navs_and_quarantines_missing_values(
    runner: InProcessRunner,
    jobs_db: Database,
    job_settings: Settings,
    server: FakeServer,
    files_dir: Path,
) -> None:
    server.route(FRED_PATH, Reply(body=payload("fred-cpiaucsl.json")))
    (files_dir / "series").mkdir()
    (files_dir / "series" / "VFIAX.csv").write_text(
        "date,nav\n2024-01-02,435.27\n2024-01-03,432.17\n2024-01-04,430.74\n"
    )
    job_settings.jobs_fund_navs = ["VFIAX"]

    await _run_twice(runner, "economy.fetch_series")

    assert await _statuses(jobs_db, "economy.fetch_series") == [(JobStatus.SUCCEEDED, 1)] * 2
    async with jobs_db.session() as session:
        rows = (
            await session.scalars(
                select(SeriesObservation).order_by(SeriesObservation.kind, SeriesObservation.day)
            )
        ).all()
        quarantined = (await session.scalars(select(QuarantinedRow))).all()
    cpi = [(r.day.isoformat(), r.value) for r in rows if r.kind is SeriesKind.ECONOMIC]
    # FRED's "." for 2023-12-01 is quarantined by the chain, the other four are stored.
    assert cpi == [
        ("2023-09-01", 307.288),
        ("2023-10-01", 307.531),
        ("2023-11-01", 308.024),
        ("2024-01-01", 309.685),
    ]
    assert {r.series_id for r in rows if r.kind is SeriesKind.ECONOMIC} == {"CPIAUCSL"}
    navs = [(r.series_id, r.value, r.provider) for r in rows if r.kind is SeriesKind.FUND_NAV]
    assert navs == [("VFIAX", 435.27, "csv"), ("VFIAX", 432.17, "csv"), ("VFIAX", 430.74, "csv")]
    assert {(q.kind, q.subject, q.reason) for q in quarantined} == {
        ("economic_series", "CPIAUCSL", "missing or non-finite value")
    }
    request = server.hits(FRED_PATH)[0]
    assert request.query["series_id"] == ["CPIAUCSL"] and request.query["api_key"] == [FRED_KEY]


async def test_financials_job_fetches_active_equities_only(
    runner: InProcessRunner, jobs_db: Database, server: FakeServer
) -> None:
    server.route(FINANCIALS_PATH, Reply(body=payload("polygon-financials-aapl.json")))
    await create_instrument(jobs_db, "AAPL")
    await create_instrument(jobs_db, "OLD", active=False)
    await create_instrument(jobs_db, "BTCUSD", asset_class=AssetClass.CRYPTO)

    await _run_twice(runner, "reports.fetch_financials")

    assert await _statuses(jobs_db, "reports.fetch_financials") == [(JobStatus.SUCCEEDED, 1)] * 2
    async with jobs_db.session() as session:
        [snapshot] = (await session.scalars(select(FundamentalsSnapshot))).all()
    assert (snapshot.symbol, snapshot.as_of, snapshot.provider) == (
        "AAPL",
        dt.date(2023, 9, 30),
        "polygon",
    )
    assert snapshot.values["revenues"] == 383_285_000_000
    assert snapshot.values["fiscal_year"] == "2023"
    requests = server.hits(FINANCIALS_PATH)
    assert [r.query["ticker"] for r in requests] == [["AAPL"], ["AAPL"]]
    assert requests[0].headers["Authorization"] == f"Bearer {POLYGON_KEY}"


@pytest.mark.parametrize(
    ("name", "unset", "reason"),
    [
        ("fx.fetch_rates", {"jobs_fx_bases": []}, "QUANTDESK_JOBS_FX_BASES is empty"),
        ("fx.fetch_rates", {"providers_fx_rates": []}, "QUANTDESK_PROVIDERS_FX_RATES is empty"),
        ("economy.fetch_series", {"jobs_economic_series": []}, "no series configured"),
        (
            "economy.fetch_series",
            {"providers_economic_series": []},
            "QUANTDESK_PROVIDERS_ECONOMIC_SERIES is empty",
        ),
        (
            "reports.fetch_financials",
            {"providers_fundamentals": []},
            "QUANTDESK_PROVIDERS_FUNDAMENTALS is empty",
        ),
        ("reports.fetch_financials", {}, "no active equity instruments"),
    ],
)
async def test_an_unconfigured_job_is_skipped_not_succeeded_and_says_why(
    runner: InProcessRunner,
    jobs_db: Database,
    job_settings: Settings,
    server: FakeServer,
    name: str,
    unset: dict[str, Any],
    reason: str,
) -> None:
    for setting, value in unset.items():
        setattr(job_settings, setting, value)
    await runner.enqueue(name)
    await runner.drain()
    (run,) = await job_runs(jobs_db, name)
    assert (run.status, run.attempts, run.error) == (JobStatus.SKIPPED, 1, None)
    assert run.result is not None and run.result["rows_written"] == 0
    reasons = [run.result["reason"] or ""] + [item["reason"] for item in run.result["skipped"]]
    assert any(reason in text for text in reasons), run.result
    assert server.requests == []


async def test_a_provider_failure_is_retried_by_the_runner(
    runner: InProcessRunner, jobs_db: Database, server: FakeServer, backoff: RecordedSleep
) -> None:
    server.route(ECB_PATH, Reply(503, b"<html>Service Unavailable</html>", "text/html"))

    await runner.enqueue("fx.fetch_rates")
    await runner.drain()

    [run] = await job_runs(jobs_db, "fx.fetch_rates")
    assert (run.status, run.attempts) == (JobStatus.FAILED, 2)  # jobs_max_retries=1
    assert backoff.delays == [2.0]
    assert run.error is not None and "EUR" in run.error and "USD" in run.error
    assert await _count(jobs_db, FxRate) == 0


async def test_an_offline_fx_run_fails_at_once_saying_the_provider_is_unreachable(
    runner: InProcessRunner,
    jobs_db: Database,
    job_settings: Settings,
    backoff: RecordedSleep,
    closed_port_url: str,
) -> None:
    job_settings.ecb_url = closed_port_url + ECB_PATH

    await runner.enqueue("fx.fetch_rates")
    await runner.drain()

    [run] = await job_runs(jobs_db, "fx.fetch_rates")
    # One attempt, no backoff: trying again at once cannot connect either.
    assert (run.status, run.attempts) == (JobStatus.FAILED, 1)
    assert backoff.delays == []
    assert run.error is not None
    assert "EUR: ecb unreachable: 127.0.0.1" in run.error and "USD: ecb unreachable" in run.error
    assert "connection refused (offline?)" in run.error
    async with jobs_db.session() as session:
        fetches = (await session.scalars(select(ProviderFetch))).all()
    # One call per base, none retried by the provider layer either.
    assert [(f.provider, f.subject, f.retries, f.healthy) for f in fetches] == [
        ("ecb", "EUR", 0, False),
        ("ecb", "USD", 0, False),
    ]


async def test_an_unknown_series_fails_the_run_without_retries(
    runner: InProcessRunner, jobs_db: Database, job_settings: Settings, server: FakeServer
) -> None:
    # Asked in settings order: CPIAUCSL gets the observations, NOSUCHSERIES FRED's 400.
    server.route(
        FRED_PATH,
        Reply(body=payload("fred-cpiaucsl.json")),
        Reply(400, payload("fred-missing-series.json")),
    )
    job_settings.jobs_economic_series = ["CPIAUCSL", "NOSUCHSERIES"]

    await runner.enqueue("economy.fetch_series")
    await runner.drain()

    [run] = await job_runs(jobs_db, "economy.fetch_series")
    assert (run.status, run.attempts) == (JobStatus.FAILED, 1)
    assert run.error is not None and "NOSUCHSERIES" in run.error
    assert await _count(jobs_db, SeriesObservation) == 4  # the good series is kept
    assert run.result is not None and run.result["written"] == {"CPIAUCSL": 4}
