"""`quantdesk export KIND ...`: write an export file straight from the database with a progress
bar (the same pipeline as the `exports.run` job, without the API, for an operator)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from quantdesk.cli_support import checked_settings, option_name
from quantdesk.db import Database
from quantdesk.exports.pipeline import ExportJob, produce
from quantdesk.exports.schemas import PARAMS_BY_KIND, ExportFormat, ExportKind
from quantdesk.exports.writers import EXTENSIONS
from quantdesk.kit.timeframes import Timeframe

err = Console(stderr=True)
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]
CLI_KINDS = (ExportKind.BARS, ExportKind.SIGNALS, ExportKind.AUDIT)


def export_command(
    kind: Annotated[ExportKind, typer.Argument(help="bars, signals or audit")],
    symbol: Annotated[str | None, typer.Option(help="Instrument (bars: required)")] = None,
    timeframe: Annotated[Timeframe, typer.Option(help="Bars' timeframe")] = Timeframe.D1,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="File format")] = ExportFormat.CSV,
    start: Annotated[datetime | None, typer.Option(formats=DATE_FORMATS, help="From (UTC)")] = None,
    end: Annotated[datetime | None, typer.Option(formats=DATE_FORMATS, help="Up to (UTC)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write")] = None,
) -> None:
    """Export stored rows to a file (docs/exports.md); user-owned kinds go through the API."""
    if kind not in CLI_KINDS:
        err.print(f"[red]error:[/red] {kind.value} rows belong to a user: use POST /api/v1/exports")
        raise typer.Exit(2)
    raw: dict[str, Any] = {
        "start": start.replace(tzinfo=UTC) if start else None,
        "end": end.replace(tzinfo=UTC) if end else None,
    }
    if kind is ExportKind.BARS:
        raw |= {"symbol": symbol.upper() if symbol else None, "timeframe": timeframe.value}
    elif kind is ExportKind.SIGNALS and symbol:
        raw["symbol"] = symbol.upper()
    try:
        params = PARAMS_BY_KIND[kind].model_validate(
            {k: v for k, v in raw.items() if v is not None}
        )
    except ValidationError as error:
        for problem in error.errors():
            err.print(f"[red]error:[/red] {option_name(problem['loc'])}: {problem['msg']}")
        raise typer.Exit(2) from error
    settings = checked_settings(err)
    target = output or Path(f"{kind.value}.{EXTENSIONS[fmt]}")
    job = ExportJob(kind, fmt, params.model_dump(mode="json", exclude_none=True), user_id=0)

    async def run() -> Any:
        db = Database(settings)
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
        try:
            with Progress(*columns, TimeRemainingColumn(), console=err) as bar:
                task = bar.add_task(f"{kind.value} -> {target}", total=None)

                async def progress(rows: int, expected: int) -> None:
                    bar.update(task, completed=rows, total=expected)

                return await produce(
                    db,
                    job,
                    target,
                    batch_rows=settings.exports_batch_rows,
                    max_rows_per_sheet=settings.exports_xlsx_max_rows_per_sheet,
                    progress=progress,
                )
        finally:
            await db.dispose()

    produced = asyncio.run(run())
    typer.echo(f"{target}: {produced.rows} rows, {produced.bytes} bytes, sha256 {produced.sha256}")
