"""The `quantdesk` command: help everywhere, db and ingest and demo against a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app as cli
from quantdesk.config import get_settings

COMMANDS = [
    [],
    ["serve"],
    ["db"],
    ["db", "upgrade"],
    ["db", "downgrade"],
    ["db", "current"],
    ["ingest"],
    ["ingest", "csv"],
    ["demo"],
    ["demo", "load"],
    ["replay"],
    ["ledger"],
    ["ledger", "verify"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "quantdesk" for c in COMMANDS])
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_db_upgrade_current_downgrade(cli_database: str) -> None:
    runner = CliRunner()
    assert "empty database" in runner.invoke(cli, ["db", "current"]).output
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert "(at head)" in runner.invoke(cli, ["db", "current"]).output
    assert runner.invoke(cli, ["db", "downgrade", "base"]).exit_code == 0
    assert "empty database" in runner.invoke(cli, ["db", "current"]).output


def test_ingest_csv_creates_instrument_and_rejects_bad_files(
    cli_database: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    good = tmp_path / "good.csv"
    good.write_text(
        "date,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1.5,2,1,1.8,12\n"
    )
    missing_meta = runner.invoke(cli, ["ingest", "csv", str(good), "--symbol", "ACME"])
    assert missing_meta.exit_code == 1 and "--exchange" in missing_meta.output

    loaded = runner.invoke(
        cli,
        [
            "ingest",
            "csv",
            str(good),
            "--symbol",
            "acme",
            "--exchange",
            "NYSE",
            "--asset-class",
            "equity",
        ],
    )
    assert loaded.exit_code == 0, loaded.output
    assert "ACME 1d: 2 rows" in loaded.output

    bad = tmp_path / "bad.csv"
    bad.write_text("date,open,high,low,close,volume\n2024-01-03,1,0.5,0.4,1,10\n")
    rejected = runner.invoke(cli, ["ingest", "csv", str(bad), "--symbol", "ACME"])
    assert rejected.exit_code == 1
    assert (
        "line" in rejected.output
        and "high" in rejected.output
        and "nothing written" in rejected.output
    )
