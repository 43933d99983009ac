"""`quantdesk backtest SYMBOL ...`: run a backtest on stored bars in this process, print the
statistics and write an HTML + PNG report (registered as a top-level command in cli.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from quantdesk.backtest import defaults
from quantdesk.cli_support import checked_settings, option_name
from quantdesk.config import Settings
from quantdesk.errors import AppError
from quantdesk.kit.timeframes import Timeframe

if TYPE_CHECKING:
    from quantdesk.backtest.compute import RunDocument, RunInputs
    from quantdesk.backtest.schemas import BacktestCreate

# The engine, pydantic schemas and matplotlib are imported when the command runs: `quantdesk`
# itself (every other command, --help) must not pay seconds of numba/matplotlib start-up.
out = Console()  # the statistics are the command's output
err = Console(stderr=True)
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class FillAt(StrEnum):
    NEXT_OPEN = "next_open"
    CLOSE = "close"


class SizingMode(StrEnum):
    ALL_IN = "all_in"
    FRACTION = "fraction"
    FIXED = "fixed"


def backtest_command(
    symbol: Annotated[str, typer.Argument(help="Instrument symbol, e.g. GOOG")],
    strategy: Annotated[
        str, typer.Option(help="sma_cross or ema_cross (GET /api/v1/backtests/strategies)")
    ] = defaults.STRATEGY,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Strategy parameter NAME=VALUE (repeatable)"),
    ] = None,
    timeframe: Annotated[
        Timeframe | None, typer.Option(help=f"Bar timeframe [default: {defaults.TIMEFRAME.value}]")
    ] = None,
    start: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="First bar (UTC)")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="Last bar (UTC)")
    ] = None,
    cash: Annotated[
        float | None, typer.Option(help=f"Starting equity [default: {defaults.CASH:,.0f}]")
    ] = None,
    commission: Annotated[
        float | None,
        typer.Option(help=f"Fraction of notional per side [default: {defaults.COMMISSION}]"),
    ] = None,
    slippage_bps: Annotated[
        float | None,
        typer.Option(help=f"Basis points against each fill [default: {defaults.SLIPPAGE_BPS:g}]"),
    ] = None,
    fill: Annotated[
        FillAt | None,
        typer.Option(
            help=f"Fill signals at the next open or this close [default: {defaults.FILL}]"
        ),
    ] = None,
    sizing: Annotated[
        SizingMode | None,
        typer.Option(
            help="all_in (all equity), fraction (--fraction) or fixed (--size units per "
            "entry); implied by --fraction / --size [default: all_in]",
            show_default=False,
        ),
    ] = None,
    fraction: Annotated[
        float | None, typer.Option(help="Size entries at this fraction of equity (default: all)")
    ] = None,
    size: Annotated[
        float | None,
        typer.Option(
            help="Enter with exactly this many units (backtesting.py's buy(size=n)); an "
            "entry the cash cannot pay for is canceled"
        ),
    ] = None,
    allow_short: Annotated[
        bool | None,
        typer.Option(
            "--allow-short/--long-only",
            help="Go short on sell signals, or stay long-only [default: long-only]",
            show_default=False,
        ),
    ] = None,
    stop_loss_pct: Annotated[float | None, typer.Option(help="Stop-loss, % of entry")] = None,
    take_profit_pct: Annotated[float | None, typer.Option(help="Take-profit, % of entry")] = None,
    max_bars: Annotated[int | None, typer.Option(help="Close trades after this many bars")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Report folder (default: QUANTDESK_REPORTS_DIR)"),
    ] = None,
) -> None:
    """Backtest a strategy on stored bars: print the statistics and write an HTML report
    (equity curve, drawdown, trade markers, trade list) and a PNG chart.

    Example: quantdesk backtest GOOG --strategy sma_cross --param fast=10 --param slow=20
    """
    from pydantic import ValidationError

    from quantdesk import migrate
    from quantdesk.backtest.compute import compute_document
    from quantdesk.backtest.report import report_stem, write_report
    from quantdesk.backtest.schemas import BacktestCreate
    from quantdesk.marketdata.service import InstrumentNotFound

    settings = _settings()
    # Only what was given: everything left out takes the one set of defaults (defaults.py)
    # through the request schema, exactly as a POST /api/v1/backtests that leaves it out.
    given: dict[str, Any] = {
        "timeframe": timeframe.value if timeframe is not None else None,
        "start": start,
        "end": end,
        "cash": cash,
        "commission": commission,
        "slippage_bps": slippage_bps,
        "fill": fill.value if fill is not None else None,
        "sizing": _sizing(sizing, fraction, size),
        "allow_short": allow_short,
        "stop_loss_pct": stop_loss_pct,
        "take_profit_pct": take_profit_pct,
        "max_bars": max_bars,
    }
    raw: dict[str, Any] = {
        "symbol": symbol,
        "strategy": strategy,
        "params": _params(param or []),
        **{key: value for key, value in given.items() if value is not None},
    }
    try:
        body = BacktestCreate.model_validate(raw)
    except ValidationError as error:
        for item in error.errors():
            alias = "--size" if size is not None else "--fraction"
            where = option_name(item["loc"], aliases={"sizing": alias})
            err.print(f"[red]error:[/red] {where}: {item['msg']}")
        raise typer.Exit(2) from error
    except AppError as error:
        _print_error(error)
        raise typer.Exit(2) from error

    if settings.is_development:  # like every other command: keep the dev database current
        migrate.upgrade(settings.database_url)
    try:
        inputs = asyncio.run(_load(settings, body))
    except InstrumentNotFound as error:
        _print_error(error)
        err.print("load the demo data with `quantdesk demo load` (or `make run`)")
        raise typer.Exit(1) from error
    except AppError as error:
        _print_error(error)
        raise typer.Exit(1) from error

    document = compute_document(inputs)
    _print_stats(body, document)
    assert isinstance(inputs.request, BacktestCreate)
    stem = report_stem(inputs.request, document["bars"])
    files = write_report(output or settings.reports_dir, inputs, document, stem=stem)
    err.print(f"[green]report:[/green] {files.html}")
    err.print(f"[green]chart:[/green]  {files.png}")


def _sizing(mode: SizingMode | None, fraction: float | None, size: float | None) -> Any:
    """The request's ``sizing`` from --sizing / --fraction / --size; None when none given."""
    if fraction is not None and size is not None:
        return _usage("--fraction and --size: give one of them")
    if mode is None and size is not None:
        mode = SizingMode.FIXED
    elif mode is None and fraction is not None:
        mode = SizingMode.FRACTION
    if mode is SizingMode.FIXED:
        return {"size": size} if size is not None else _usage("--sizing fixed needs --size N")
    if mode is SizingMode.FRACTION:
        if fraction is None:
            return _usage("--sizing fraction needs --fraction F")
        return {"fraction": fraction}
    if mode is SizingMode.ALL_IN and (fraction is not None or size is not None):
        return _usage("--sizing all_in takes no --fraction or --size")
    return None if mode is None else mode.value


def _usage(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _settings() -> Settings:
    return checked_settings(err)


async def _load(settings: Settings, body: BacktestCreate) -> RunInputs:
    from quantdesk.backtest.service import backtest_service
    from quantdesk.db import Database

    db = Database(settings)
    try:
        async with db.session() as session:
            return await backtest_service.inputs(session, settings, body)
    finally:
        await db.dispose()


def _params(pairs: list[str]) -> dict[str, Any]:
    """``fast=10`` -> {"fast": 10}: integers, then floats, then true/false, else the text."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            err.print(f"[red]error:[/red] --param {pair!r}: use NAME=VALUE, e.g. fast=10")
            raise typer.Exit(2)
        params[name.strip()] = _value(text.strip())
    return params


def _value(text: str) -> Any:
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    lowered = text.lower()
    return {"true": True, "false": False}.get(lowered, text)


def _print_stats(body: BacktestCreate, document: RunDocument) -> None:
    from quantdesk.backtest.report import stat_rows
    from quantdesk.backtest.strategies import describe

    bars = document["bars"]
    out.print(
        f"{body.symbol} {body.timeframe.value} {describe(body.strategy, body.params)}: "
        f"{bars['count']:,} bars, {bars['first'][:10]} to {bars['last'][:10]}",
        highlight=False,
        markup=False,
    )
    table = Table("statistic", "value")
    for label, value in stat_rows(document["stats"]):
        table.add_row(label, value)
    out.print(table)


def _print_error(error: AppError) -> None:
    err.print(f"[red]error:[/red] {error.detail}")
    for item in error.errors or []:
        err.print(f"  {option_name(item.get('loc') or [])}: {item.get('msg', '')}")
