"""`quantdesk backtest GOOG ...` against a SQLite file with the demo loaded, as a newcomer
runs it after `make run`: stats printed, HTML + PNG report written."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.backtest import defaults
from quantdesk.backtest.report import format_stat
from quantdesk.cli import app as cli
from quantdesk.engine.backtest import SmaCross
from tests.support.backtests import direct, goog_bars
from tests.support.crossover_reference import goog_frame, run_fixed_size_crossover

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_backtest_prints_stats_and_writes_the_report(in_demo: Path) -> None:
    result = CliRunner().invoke(
        cli, ["backtest", "GOOG", "--strategy", "sma_cross", "--param", "fast=10", "-p", "slow=20"]
    )
    assert result.exit_code == 0, result.output
    expected = direct(
        goog_bars(), SmaCross(10, 20), cash=defaults.CASH, commission=defaults.COMMISSION
    ).stats
    shown = [
        format_stat(key, expected[key]) for key in ("equity_final", "sharpe", "max_drawdown_pct")
    ]
    for text in ("Sharpe ratio", "Max. drawdown [%]", *shown):
        assert text in result.stdout

    stem = "GOOG_1d_sma_cross_fast10_slow20_2004-08-19_2013-03-01_comm0.002_slip0bps_"
    (html,) = (in_demo / "reports").glob(f"{stem}*.html")
    png = html.with_suffix(".png")
    assert html.exists() and png.exists()
    chart = png.read_bytes()
    assert chart.startswith(PNG_SIGNATURE) and len(chart) > 10_000
    page = html.read_text(encoding="utf-8")
    assert '<table class="stats">' in page and "Trades (" in page
    for text in ("Equity final", *shown):
        assert text in page
    assert base64.b64encode(chart).decode() in page  # self-contained: the chart is inline


def test_backtest_options_reach_the_engine(in_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = CliRunner().invoke(
        cli,
        [
            "backtest", "GOOG", "--strategy", "ema_cross", "-p", "fast=8", "-p", "slow=30",
            "--commission", "0.002", "--fraction", "0.5", "--allow-short",
            "--start", "2008-01-01", "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(list(out.glob("GOOG_1d_ema_cross_fast8_slow30_2008-01-02_2013-03-01_*.html"))) == 1
    assert "2008-01-02 to 2013-03-01" in result.stdout


@pytest.mark.parametrize("sizing", [["--sizing", "fixed", "--size", "100"], ["--size", "100"]])
def test_fixed_size_backtest_matches_backtesting_py(
    in_demo: Path, tmp_path: Path, sizing: list[str]
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "backtest", "GOOG", "-p", "fast=10", "-p", "slow=20", *sizing, "--cash", "100000",
            "--commission", "0.002", "--long-only", "--out", str(tmp_path),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    reference = run_fixed_size_crossover(goog_frame(), cash=100_000.0, commission=0.002)
    assert format_stat("equity_final", reference.final_equity) in result.stdout
    closed = re.search(r"Trades \(closed\)\s*│\s*(\d+)\s", result.stdout)
    assert closed is not None and int(closed.group(1)) == len(reference.trades)


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["NOPE"], 1, "quantdesk demo load"),
        (["GOOG", "--param", "fast=30"], 2, "must be less than slow"),
        (["GOOG", "--param", "fast"], 2, "NAME=VALUE"),
        (["GOOG", "--strategy", "magic"], 2, "unknown strategy"),
        (["GOOG", "--commission", "0.5"], 2, "commission"),
        (["GOOG", "--size", "0"], 2, "--size"),
        (["GOOG", "--sizing", "fixed"], 2, "--sizing fixed needs --size"),
        (["GOOG", "--size", "10", "--fraction", "0.5"], 2, "give one of them"),
        (["GOOG", "--fraction", "2"], 2, "--fraction"),
    ],
    ids=[
        "unknown-symbol",
        "bad-param",
        "param-without-value",
        "unknown-strategy",
        "bad-option",
        "size-zero",
        "fixed-without-size",
        "size-and-fraction",
        "fraction-too-big",
    ],
)
def test_backtest_explains_bad_input(
    in_demo: Path, arguments: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(cli, ["backtest", *arguments])
    assert result.exit_code == code, result.output
    assert message in result.output
