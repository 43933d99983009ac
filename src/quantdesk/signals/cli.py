"""`quantdesk signals generate | evaluate | backfill` (registered in quantdesk/cli.py).

The same service calls the signal jobs make, for running them by hand or from cron, and the
backfill over the stored history that `quantdesk demo load` runs for the demo data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.cli_support import auto_migrate, checked_settings, with_session
from quantdesk.config import Settings
from quantdesk.errors import AppError
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch, iso_z
from quantdesk.models import Signal

T = TypeVar("T")
console = Console(stderr=True)
signals_app = typer.Typer(
    help="Trading signals: generate, settle and backfill them.", no_args_is_help=True
)


def _settings() -> Settings:
    settings = checked_settings(console)
    auto_migrate(settings)
    return settings


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return with_session(settings, work)
    except AppError as error:
        console.print(f"[red]error:[/red] {error.detail}")
        raise typer.Exit(1) from error


def _line(signal: Signal) -> str:
    # One plain line per signal: a table would be cut to the terminal's width.
    return (
        f"#{signal.id} {signal.symbol} {signal.timeframe} {signal.strategy} "
        f"{signal.direction.value} entry {signal.entry:.6g} target {signal.target:.6g} "
        f"stop {signal.stop:.6g} confidence {signal.confidence:.1f} "
        f"(bar {iso_z(from_epoch(signal.source_ts))})"
    )


@signals_app.command("generate")
def generate(
    symbol: Annotated[
        list[str] | None,
        typer.Option("--symbol", "-s", help="Instrument (repeatable); default: all active"),
    ] = None,
    timeframe: Annotated[Timeframe, typer.Option(help="Bar timeframe")] = Timeframe.D1,
) -> None:
    """Run every strategy on the last closed bar of each instrument and store new signals."""
    from quantdesk.signals.service import signal_service

    settings = _settings()

    async def work(session: AsyncSession) -> list[Signal]:
        return await signal_service.generate(
            session,
            symbols=[s.upper() for s in symbol] if symbol else None,
            timeframe=timeframe,
            settings=settings,
        )

    created = _run(settings, work)
    for signal in created:
        console.print(_line(signal), soft_wrap=True)
    console.print(f"[green]{len(created)} new signal(s)[/green]")


@signals_app.command("evaluate")
def evaluate() -> None:
    """Settle active signals against new bars: target_hit, stopped or expired."""
    from quantdesk.signals.service import signal_service

    settings = _settings()

    async def work(session: AsyncSession) -> dict[str, int]:
        return await signal_service.evaluate(session, settings=settings)

    counts = _run(settings, work)
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    console.print(f"[green]{summary}[/green]")


@signals_app.command("backfill")
def backfill(
    symbol: Annotated[
        list[str] | None,
        typer.Option("--symbol", "-s", help="Instrument (repeatable); default: all active"),
    ] = None,
    timeframe: Annotated[
        Timeframe | None, typer.Option(help="Bar timeframe; default: each one stored")
    ] = None,
) -> None:
    """Signals over the stored history, each settled by the bars after it (idempotent)."""
    from quantdesk.signals.backfill import BackfillResult
    from quantdesk.signals.service import signal_service

    settings = _settings()

    async def work(session: AsyncSession) -> list[BackfillResult]:
        return await signal_service.backfill(
            session,
            symbols=[s.upper() for s in symbol] if symbol else None,
            timeframe=timeframe,
            settings=settings,
        )

    results = _run(settings, work)
    for result in results:
        console.print(
            f"{result.symbol} {result.timeframe.value}: {result.bars:,} bars, "
            f"{result.signals:,} signals ({result.settled:,} settled, {result.created:,} new)"
        )
    console.print(f"[green]{sum(r.created for r in results)} new signal(s)[/green]")
