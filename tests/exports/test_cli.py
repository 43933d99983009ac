"""`quantdesk export bars SYMBOL` writes the file the API would, with a progress bar."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from tests.support.export_memory import build


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "bars.db"
    build(path, 1_234)
    monkeypatch.setenv("QUANTDESK_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_export_bars_writes_every_row(database: Path, tmp_path: Path) -> None:
    target = tmp_path / "mem.csv"
    done = CliRunner().invoke(
        cli, ["export", "bars", "--symbol", "mem", "--timeframe", "1m", "-o", str(target)]
    )
    assert done.exit_code == 0, done.output
    assert f"{target}: 1234 rows" in done.output
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 1_234 and rows[0]["time"] == "2020-09-13T12:26:40Z"


def test_user_owned_kinds_and_bad_options_are_refused(database: Path) -> None:
    orders = CliRunner().invoke(cli, ["export", "orders"])
    assert orders.exit_code == 2 and "POST /api/v1/exports" in orders.output
    no_symbol = CliRunner().invoke(cli, ["export", "bars"])
    assert no_symbol.exit_code == 2 and "symbol" in no_symbol.output
