"""One question, one answer: the CLI, POST /backtests and GET /backtest/example fill what is
left out from the same defaults (backtest/defaults.py) and agree on the result."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from typer.testing import CliRunner

from quantdesk.backtest import defaults
from quantdesk.backtest.report import format_stat
from quantdesk.cli import app as cli
from quantdesk.engine.backtest import Bars, SmaCross
from tests.support.backtests import URL, direct, wait_for

QUESTION = [
    *("backtest", "GOOG", "--strategy", "sma_cross"),
    *("--param", "fast=10", "--param", "slow=20"),
]


async def test_cli_post_and_example_give_the_same_final_equity(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str], in_demo: Path
) -> None:
    body = {"symbol": "GOOG", "strategy": "sma_cross", "params": {"fast": 10, "slow": 20}}
    run_id = (await client.post(URL, json=body, headers=premium)).json()["id"]
    posted = await wait_for(client, run_id, premium)
    assert posted["status"] == "completed", posted
    example = (await client.get("/api/v1/backtest/example")).json()
    # The CLI runs asyncio.run itself: off this test's event loop.
    shown = await asyncio.to_thread(CliRunner().invoke, cli, QUESTION)
    assert shown.exit_code == 0, shown.output

    final = posted["stats"]["equity_final"]
    assert example["stats"]["equity_final"] == final
    assert example["stats"] == posted["stats"] and example["request"] == posted["request"]
    printed = _table(shown.stdout)
    assert printed["Equity final"] == format_stat("equity_final", final)
    assert printed["Trades (closed)"] == format_stat("trades", posted["stats"]["trades"])
    # ... and that answer is the engine's with the documented defaults.
    expected = direct(goog, SmaCross(10, 20), cash=10_000.0, commission=0.002)
    assert final == expected.stats["equity_final"]


def test_the_defaults_are_the_documented_ones() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "backtests.md").read_text(encoding="utf-8")
    assert (defaults.CASH, defaults.COMMISSION, defaults.SLIPPAGE_BPS) == (10_000.0, 0.002, 0.0)
    assert (defaults.FILL, defaults.SIZING, defaults.ALLOW_SHORT) == ("next_open", "all_in", False)
    for text in ("10,000 cash", "0.2 % commission per side", "no slippage", "long-only"):
        assert text in docs, text


def _table(output: str) -> dict[str, str]:
    """The CLI's statistics table as {label: value}."""
    rows = [line.split("│") for line in output.splitlines() if line.count("│") == 3]
    return {cells[1].strip(): cells[2].strip() for cells in rows}
