"""`quantdesk jobs list|run`, and the worker and beat commands' help."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk import migrate
from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from quantdesk.db import Database
from quantdesk.models import JobStatus
from tests.support.jobs import job_runs
from tests.support.settings import make_settings, sqlite_url


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = sqlite_url(tmp_path / "cli.db")
    migrate.upgrade(url)
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
    monkeypatch.setenv("QUANTDESK_PROVIDERS_FILES_DIRS", str(tmp_path / "none"))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "command", [["worker"], ["beat"], ["jobs"], ["jobs", "run"], ["jobs", "runs"]]
)
def test_job_commands_have_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_jobs_run_runs_a_job_here_and_records_it(cli_database: str) -> None:
    result = CliRunner().invoke(cli, ["jobs", "run", "maintenance.cleanup"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "maintenance.cleanup: succeeded: 0 rows written, job_runs 0" in result.output

    async def recorded() -> list[tuple[str, JobStatus]]:
        db = Database(make_settings(cli_database))
        try:
            return [(run.name, run.status) for run in await job_runs(db)]
        finally:
            await db.dispose()

    assert asyncio.run(recorded()) == [("maintenance.cleanup", JobStatus.SUCCEEDED)]


def test_jobs_run_and_runs_show_a_skipped_run_and_why(cli_database: str) -> None:
    """Nothing configured for the economy job: `skipped` with the reason, not `succeeded`."""
    wide = {"COLUMNS": "250"}
    ran = CliRunner().invoke(cli, ["jobs", "run", "economy.fetch_series"], env=wide)
    assert ran.exit_code == 0, ran.output
    assert "economy.fetch_series: skipped: no series configured" in ran.output

    listed = CliRunner().invoke(cli, ["jobs", "runs", "--status", "skipped"], env=wide)
    assert listed.exit_code == 0, listed.output
    assert "economy.fetch_series" in listed.output and "skipped" in listed.output
    assert "no series configured (QUANTDESK_JOBS_ECONOMIC_SERIES" in listed.output
    bad = CliRunner().invoke(cli, ["jobs", "runs", "--status", "done"])
    assert bad.exit_code == 2 and "skipped" in bad.output


def test_jobs_run_reports_unknown_jobs_and_bad_arguments(cli_database: str) -> None:
    unknown = CliRunner().invoke(cli, ["jobs", "run", "no.such_job"])
    assert unknown.exit_code == 1
    assert "no job named 'no.such_job'" in unknown.output
    bad = CliRunner().invoke(cli, ["jobs", "run", "maintenance.cleanup", "--args", "[1]"])
    assert bad.exit_code == 2
    assert "JSON object" in bad.output


def test_jobs_list_shows_each_job_and_its_schedule(cli_database: str) -> None:
    result = CliRunner().invoke(cli, ["jobs", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "maintenance.cleanup" in result.output
    assert "0 3 * * 0 (UTC)" in result.output
