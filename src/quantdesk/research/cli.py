"""`quantdesk report SYMBOL`: write a research report from the stored data (the same report as
GET /api/v1/research/{symbol}/report) to a file or standard output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.cli_support import checked_settings, with_session
from quantdesk.errors import AppError
from quantdesk.research.render import ReportFormat
from quantdesk.research.service import Report, research_service

err = Console(stderr=True)


def report_command(
    symbol: Annotated[str, typer.Argument(help="Instrument, e.g. GOOG")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md, html or pdf")] = (
        ReportFormat.MD
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (- for stdout)")
    ] = None,
    narrative: Annotated[
        bool,
        typer.Option(help="Add the guarded LLM summary (QUANTDESK_RESEARCH_LLM_URL)"),
    ] = False,
) -> None:
    """Write SYMBOL's research report (default file: SYMBOL-report.FORMAT)."""
    settings = checked_settings(err)

    async def work(session: AsyncSession) -> Report:
        return await research_service.report(
            session, settings, symbol, fmt, with_narrative=narrative
        )

    try:
        report = with_session(settings, work)
    except AppError as error:
        err.print(f"[red]error {error.status}:[/red] {error.detail}")
        raise typer.Exit(1) from error
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(report.body)
        return
    path = output or Path(f"{report.symbol}-report.{fmt.value}")
    path.write_bytes(report.body)
    err.print(
        f"[green]{path}[/green]: {report.symbol} as of {report.as_of}, "
        f"inputs sha256 {report.inputs_sha256[:12]}..."
    )
