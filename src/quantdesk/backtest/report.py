"""Backtest reports: one PNG (price with trade markers, equity, drawdown) and one
self-contained HTML page (stats table, the chart inline as base64 PNG, trade list).

Matplotlib is driven through its object API on an Agg canvas: no pyplot, no global backend
switch, no display needed, safe in worker threads.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from quantdesk.backtest.compute import RunInputs
from quantdesk.backtest.schemas import BacktestCreate
from quantdesk.backtest.strategies import describe

# Past this many bars the lines are drawn from every k-th bar (markers stay exact): a
# million-point line costs seconds and looks the same at report width.
MAX_PLOTTED_POINTS = 20_000
MAX_TRADE_ROWS = 1_000

LABELS: dict[str, str] = {
    "equity_final": "Equity final",
    "equity_peak": "Equity peak",
    "total_return_pct": "Return [%]",
    "buy_hold_return_pct": "Buy & hold return [%]",
    "return_ann_pct": "Return (ann.) [%]",
    "cagr_pct": "CAGR [%]",
    "volatility_ann_pct": "Volatility (ann.) [%]",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "calmar": "Calmar ratio",
    "max_drawdown_pct": "Max. drawdown [%]",
    "avg_drawdown_pct": "Avg. drawdown [%]",
    "max_drawdown_duration": "Max. drawdown duration [bars]",
    "avg_drawdown_duration": "Avg. drawdown duration [bars]",
    "exposure_pct": "Exposure [%]",
    "trades": "Trades (closed)",
    "open_trades": "Open trades",
    "win_rate_pct": "Win rate [%]",
    "profit_factor": "Profit factor",
    "expectancy_pct": "Expectancy [%]",
    "sqn": "SQN",
    "kelly": "Kelly criterion",
    "best_trade_pct": "Best trade [%]",
    "worst_trade_pct": "Worst trade [%]",
    "avg_trade_pct": "Avg. trade [%]",
    "avg_win_pct": "Avg. win [%]",
    "avg_loss_pct": "Avg. loss [%]",
    "largest_win": "Largest win",
    "largest_loss": "Largest loss",
    "max_consecutive_wins": "Max. consecutive wins",
    "max_consecutive_losses": "Max. consecutive losses",
    "avg_trade_duration": "Avg. trade duration [bars]",
    "max_trade_duration": "Max. trade duration [bars]",
    "commissions": "Commissions",
}
_MONEY = {"equity_final", "equity_peak", "largest_win", "largest_loss", "commissions"}


def format_stat(key: str, value: Any) -> str:
    """How a figure reads in the table and the terminal (the API keeps full precision)."""
    if value is None:
        return "-"
    if value == "Infinity" or value == math.inf:
        return "inf"
    if value == "-Infinity" or value == -math.inf:
        return "-inf"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if key in _MONEY:
            return f"{value:,.2f}"
        if key.endswith("_pct"):
            return f"{value:.2f}"
        return f"{value:.3f}"
    return str(value)


def stat_rows(stats: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(LABELS.get(key, key), format_stat(key, value)) for key, value in stats.items()]


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    png: Path


def title_of(request: BacktestCreate) -> str:
    what = describe(request.strategy, request.params)
    return f"{request.symbol} {request.timeframe.value} {what}"


def report_stem(request: BacktestCreate, bars: Mapping[str, Any]) -> str:
    """The report's file name without suffix: what was run, on which bars, at what cost, and
    a short hash of the whole resolved request, e.g.
    ``GOOG_1d_sma_cross_fast10_slow20_2004-08-19_2013-03-01_comm0.002_slip0bps_1a2b3c4d``.
    Different requests never share a name; the same request rewrites the same files."""
    config = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(config.encode()).hexdigest()[:8]
    params = "".join(f"_{key}{value}" for key, value in request.params.items())
    raw = (
        f"{request.symbol}_{request.timeframe.value}_{request.strategy}{params}"
        f"_{bars['first'][:10]}_{bars['last'][:10]}"
        f"_comm{request.commission:g}_slip{request.slippage_bps:g}bps_{digest}"
    )
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)


def render_png(inputs: RunInputs, document: Mapping[str, Any], title: str) -> bytes:
    buffer = io.BytesIO()
    build_figure(inputs, document, title).savefig(buffer, format="png")
    return buffer.getvalue()


def build_figure(inputs: RunInputs, document: Mapping[str, Any], title: str) -> Figure:
    """Price with trade markers, equity with trade results, drawdown; the price legend names
    only the markers that occur (no "short entry" on a long-only run)."""
    frame = inputs.frame
    times = frame.ts.astype("datetime64[s]")
    equity = np.asarray(document["equity"]["equity"], dtype=np.float64)
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        drawdown = np.where(peak > 0, (1.0 - equity / peak) * 100.0, 0.0)
    step = max(1, -(-len(frame) // MAX_PLOTTED_POINTS))
    lines = slice(None, None, step)

    figure = Figure(figsize=(12, 8.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    price_ax, equity_ax, drawdown_ax = figure.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [3.0, 2.0, 1.2]}
    )
    figure.suptitle(title, fontsize=13)
    price_ax.plot(times[lines], frame.close[lines], color="#4a4a4a", linewidth=0.8, label="close")
    _trade_markers(price_ax, equity_ax, document["trades"], times, equity)
    price_ax.set_ylabel("price")
    price_ax.legend(loc="upper left", fontsize=8, frameon=False)
    equity_ax.plot(times[lines], equity[lines], color="#1f5fa8", linewidth=1.0)
    equity_ax.set_ylabel("equity")
    drawdown_ax.fill_between(times[lines], -drawdown[lines], 0.0, color="#c0392b", alpha=0.45)
    drawdown_ax.set_ylabel("drawdown [%]")
    for axis in (price_ax, equity_ax, drawdown_ax):
        axis.grid(True, linewidth=0.3, alpha=0.6)
    return figure


def _trade_markers(
    price_ax: Any,
    equity_ax: Any,
    trades: Sequence[Mapping[str, Any]],
    times: npt.NDArray[np.datetime64],
    equity: npt.NDArray[np.float64],
) -> None:
    if not trades:
        return
    entry = np.array([t["entry_bar"] for t in trades], dtype=np.int64)
    exit_ = np.array([t["exit_bar"] for t in trades], dtype=np.int64)
    long = np.array([t["side"] == "long" for t in trades])
    won = np.array([t["pnl"] > 0 for t in trades])
    entry_price = np.array([t["entry_price"] for t in trades], dtype=np.float64)
    exit_price = np.array([t["exit_price"] for t in trades], dtype=np.float64)
    short = ~long
    marker: dict[str, Any] = {"s": 28, "zorder": 4, "linewidths": 0}
    # Exits first and small: on a reversal the exit and the next entry share a bar. A group
    # with no trade is not drawn, so it has no legend entry either.
    groups: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], dict[str, Any]]] = [
        (exit_, exit_price, {"marker": "o", "c": "#7f7f7f", "label": "exit", "s": 10, "zorder": 3}),
        (entry[long], entry_price[long], {"marker": "^", "c": "#1e8449", "label": "long entry"}),
        (entry[short], entry_price[short], {"marker": "v", "c": "#c0392b", "label": "short entry"}),
    ]
    for bars_at, prices, style in groups:
        if bars_at.size:
            price_ax.scatter(times[bars_at], prices, **{**marker, **style})
    for bars_at, color in ((exit_[won], "#1e8449"), (exit_[~won], "#c0392b")):
        if bars_at.size:
            equity_ax.scatter(times[bars_at], equity[bars_at], c=color, s=14, zorder=3)


def render_html(inputs: RunInputs, document: Mapping[str, Any], title: str, png: bytes) -> str:
    request = inputs.request.model_dump(mode="json")
    bars = document["bars"]
    settings = ", ".join(
        f"{key}={value}"
        for key, value in request.items()
        if key not in ("symbol", "timeframe", "strategy", "params") and value is not None
    )
    stats = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in stat_rows(document["stats"])
    )
    compat = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(format_stat(key, value))}</td></tr>"
        for key, value in document["compat"].get("backtesting_py", {}).items()
    )
    trades = document["trades"]
    rows = "".join(
        _trade_row(number, trade) for number, trade in enumerate(trades[:MAX_TRADE_ROWS], 1)
    )
    more = (
        f"<p>Showing the first {MAX_TRADE_ROWS:,} of {len(trades):,} trades.</p>"
        if len(trades) > MAX_TRADE_ROWS
        else ""
    )
    position = document.get("open_position")
    open_note = (
        f"<p>Open at the end: {html.escape(position['side'])} {position['units']:g} units from "
        f"{html.escape(position['entry_time'])} at {position['entry_price']:.4f} "
        f"(unrealized {position['unrealized_pnl']:,.2f}).</p>"
        if position
        else ""
    )
    chart = base64.b64encode(png).decode("ascii")
    return _PAGE.format(
        title=html.escape(title),
        summary=html.escape(
            f"{bars['count']:,} bars, {bars['first']} to {bars['last']}; {settings}"
        ),
        chart=chart,
        stats=stats,
        compat=compat,
        trades=rows,
        trade_count=len(trades),
        more=more,
        open_note=open_note,
    )


def _trade_row(number: int, trade: Mapping[str, Any]) -> str:
    cells = (
        str(number),
        trade["side"],
        trade["entry_time"],
        f"{trade['entry_price']:.4f}",
        trade["exit_time"],
        f"{trade['exit_price']:.4f}",
        f"{trade['units']:g}",
        f"{trade['pnl']:,.2f}",
        f"{trade['return_pct']:.2f}",
        trade["exit_reason"],
    )
    css = "win" if trade["pnl"] > 0 else "loss" if trade["pnl"] < 0 else ""
    return f'<tr class="{css}">' + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def write_report(
    directory: Path, inputs: RunInputs, document: Mapping[str, Any], *, stem: str
) -> ReportFiles:
    """Write ``<stem>.png`` and ``<stem>.html`` (which embeds the same PNG) into ``directory``."""
    assert isinstance(inputs.request, BacktestCreate)
    title = title_of(inputs.request)
    png = render_png(inputs, document, title)
    directory.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=directory / f"{stem}.html", png=directory / f"{stem}.png")
    files.png.write_bytes(png)
    files.html.write_text(render_html(inputs, document, title, png), encoding="utf-8")
    return files


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }}
h1 {{ font-size: 1.5rem; margin-bottom: .2rem; }}
.summary {{ color: #555; margin-top: 0; }}
img {{ width: 100%; height: auto; border: 1px solid #ddd; }}
.tables {{ display: flex; gap: 2rem; flex-wrap: wrap; align-items: flex-start; }}
table {{ border-collapse: collapse; font-size: .9rem; }}
th, td {{ padding: .2rem .6rem; border-bottom: 1px solid #eee; text-align: right; }}
th {{ text-align: left; font-weight: 500; }}
.trades th {{ text-align: right; background: #f5f5f5; }}
tr.win td {{ color: #1e8449; }}
tr.loss td {{ color: #c0392b; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="summary">{summary}</p>
<img alt="price with trades, equity and drawdown" src="data:image/png;base64,{chart}">
<div class="tables">
<section><h2>Statistics</h2><table class="stats">{stats}</table></section>
<section><h2>backtesting.py conventions</h2><table class="compat">{compat}</table></section>
</div>
<h2>Trades ({trade_count})</h2>
{open_note}
<table class="trades">
<tr><th>#</th><th>side</th><th>entry</th><th>entry price</th><th>exit</th><th>exit price</th>
<th>units</th><th>P&amp;L</th><th>return [%]</th><th>exit reason</th></tr>
{trades}
</table>
{more}
</body>
</html>
"""
