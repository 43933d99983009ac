"""Reports: names that never collide across settings, and a legend of what is on the chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quantdesk.backtest.compute import RunInputs, compute_document
from quantdesk.backtest.report import build_figure, report_stem
from quantdesk.backtest.schemas import BacktestCreate
from quantdesk.cli import app as cli
from tests.support.backtests import goog_frame

BASE: dict[str, Any] = {"symbol": "GOOG", "params": {"fast": 10, "slow": 20}}
BARS = {"first": "2004-08-19T00:00:00Z", "last": "2013-03-01T00:00:00Z"}


def stem(**changes: Any) -> str:
    return report_stem(BacktestCreate.model_validate({**BASE, **changes}), BARS)


def test_the_name_says_what_ran_on_which_bars_at_what_cost() -> None:
    name = stem(commission=0.001, slippage_bps=2.5)
    assert name.startswith("GOOG_1d_sma_cross_fast10_slow20_2004-08-19_2013-03-01_comm0.001_")
    assert "_slip2.5bps_" in name
    assert len(name.rsplit("_", 1)[1]) == 8  # the request's hash


@pytest.mark.parametrize(
    "changes",
    [
        {"commission": 0.001},
        {"slippage_bps": 1.0},
        {"cash": 20_000.0},
        {"allow_short": True},
        {"fill": "close"},
        {"sizing": {"fraction": 0.5}},
        {"stop_loss_pct": 5.0},
        {"max_bars": 10},
        {"periods_per_year": 365.0},
        {"start": "2005-01-01"},
        {"end": "2012-12-31"},
        {"params": {"fast": 10, "slow": 30}},
    ],
    ids=lambda changes: next(iter(changes)),
)
def test_any_other_setting_is_another_name_and_the_same_setting_the_same_name(
    changes: dict[str, Any],
) -> None:
    assert stem(**changes) != stem()
    assert stem(**changes) == stem(**changes)


def test_cli_runs_with_different_costs_keep_both_reports(in_demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    base = ["backtest", "GOOG", "-p", "fast=10", "-p", "slow=20", "--out", str(out)]
    for extra in ([], ["--commission", "0.001"], ["--slippage-bps", "5"], []):
        result = CliRunner().invoke(cli, [*base, *extra])
        assert result.exit_code == 0, result.output
    # Three settings, three reports; running the first again rewrote its own files.
    assert len(list(out.glob("*.html"))) == len(list(out.glob("*.png"))) == 3


def _legend(**changes: Any) -> list[str]:
    request = BacktestCreate.model_validate({**BASE, "periods_per_year": 252.0, **changes})
    inputs = RunInputs(request, goog_frame(), "1d")
    figure = build_figure(inputs, compute_document(inputs), "title")
    legend = figure.axes[0].get_legend()  # the price panel's
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def test_a_long_only_chart_has_no_short_entry_in_its_legend() -> None:
    assert _legend() == ["close", "exit", "long entry"]


def test_a_long_short_chart_names_both_entries() -> None:
    assert _legend(allow_short=True) == ["close", "exit", "long entry", "short entry"]


def test_a_chart_without_trades_names_only_the_price() -> None:
    # SMA(9,999) never has a value on 2,148 bars: no trade at all.
    assert _legend(params={"fast": 9_999, "slow": 10_000}) == ["close"]
