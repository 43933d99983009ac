"""`quantdesk signals generate | evaluate` against a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from quantdesk.kit.timeutil import epochs_to_iso
from tests.support.signals import goog_window


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [[], ["generate"], ["evaluate"]])
def test_signals_commands_have_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, ["signals", *command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def new_count(output: str) -> int:
    found = re.search(r"(\d+) new signal\(s\)", output)
    assert found, output
    return int(found.group(1))


@pytest.mark.usefixtures("cli_database")
def test_generate_then_evaluate(tmp_path: Path) -> None:
    window = goog_window()
    csv = tmp_path / "goog.csv"
    rows = zip(epochs_to_iso(window.ts), *(c.tolist() for c in window.columns()[1:]), strict=True)
    csv.write_text(
        "timestamp,open,high,low,close,volume\n"
        + "".join(",".join(map(str, r)) + "\n" for r in rows)
    )
    runner = CliRunner()
    loaded = runner.invoke(
        cli,
        [
            "ingest",
            "csv",
            str(csv),
            "--symbol",
            "GOOG",
            "--exchange",
            "NASDAQ",
            "--asset-class",
            "equity",
        ],
    )
    assert loaded.exit_code == 0, loaded.output

    first = runner.invoke(cli, ["signals", "generate", "--symbol", "goog", "--timeframe", "1d"])
    assert first.exit_code == 0, first.output
    assert new_count(first.output) >= 2 and "composite" in first.output
    again = runner.invoke(cli, ["signals", "generate"])  # every active instrument
    assert again.exit_code == 0 and new_count(again.output) == 0

    # The window ends in 2006: every signal has long expired or settled by now.
    settled = runner.invoke(cli, ["signals", "evaluate"])
    assert settled.exit_code == 0, settled.output
    assert "active 0" in settled.output

    unknown = runner.invoke(cli, ["signals", "generate", "--symbol", "NOPE"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output
