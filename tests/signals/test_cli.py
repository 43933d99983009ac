"""`quantdesk signals generate | evaluate | backfill` and the signals of `quantdesk demo load`,
against a real SQLite file."""

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


@pytest.mark.parametrize("command", [[], ["generate"], ["evaluate"], ["backfill"]])
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

    # The window ends in 2006, but no bar came after it: the signals stay active (market
    # time; the wall clock expires nothing).
    settled = runner.invoke(cli, ["signals", "evaluate"])
    assert settled.exit_code == 0, settled.output
    assert f"active {new_count(first.output)}," in settled.output
    assert "expired 0" in settled.output

    unknown = runner.invoke(cli, ["signals", "generate", "--symbol", "NOPE"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output


def backfilled(output: str) -> dict[str, tuple[int, int, int]]:
    """symbol -> (signals, settled, new) from `... N signals (S settled, C new)` lines."""
    found = re.findall(
        r"(\w+) \w+: (?:[\d,]+ bars, )?([\d,]+) signals \(([\d,]+) settled, "
        r"([\d,]+) new\)",
        output,
    )
    return {
        symbol: (int(a.replace(",", "")), int(b.replace(",", "")), int(c.replace(",", "")))
        for symbol, a, b, c in found
    }


@pytest.mark.usefixtures("cli_database")
def test_demo_load_backfills_signals_once() -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "load"])
    assert first.exit_code == 0, first.output
    counts = backfilled(first.output)
    assert set(counts) == {"GOOG", "EURUSD", "BTCUSD"}, first.output
    for signals, settled, new in counts.values():
        assert 0 < settled <= signals == new

    again = runner.invoke(cli, ["demo", "load"])  # `make run` a second time
    assert again.exit_code == 0, again.output
    assert backfilled(again.output) == {
        symbol: (signals, settled, 0) for symbol, (signals, settled, _) in counts.items()
    }
    by_hand = runner.invoke(cli, ["signals", "backfill", "--symbol", "goog"])
    assert by_hand.exit_code == 0, by_hand.output
    assert backfilled(by_hand.output) == {"GOOG": (*counts["GOOG"][:2], 0)}
    assert "0 new signal(s)" in by_hand.output
