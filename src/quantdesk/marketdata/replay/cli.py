"""`quantdesk replay SYMBOL ...`: run a market replay in this process (registered as a
top-level command in cli.py).

The replay publishes on a bus built from the settings: with `QUANTDESK_EVENTS_BACKEND=redis`
a running server's desk receives it; with the memory bus it reaches only this process (nobody).
It cannot wait for another process's desk, so it paces by `--speed` alone (0: no pause).
Progress is printed every second; it exits at the end of the range, or on Ctrl-C after
publishing `stopped`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from quantdesk.cli_support import auto_migrate, checked_settings, option_name
from quantdesk.config import Settings
from quantdesk.errors import AppError
from quantdesk.kit.timeframes import Timeframe

if TYPE_CHECKING:
    from quantdesk.infra.events import EventBus
    from quantdesk.marketdata.replay.run import ReplayRequest
    from quantdesk.marketdata.replay.service import ReplayView

out = Console()
err = Console(stderr=True)
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
PROGRESS_SECONDS = 1.0

Printer = Callable[["ReplayView"], None]


def replay_command(
    symbol: Annotated[str, typer.Argument(help="Instrument symbol, e.g. GOOG")],
    start: Annotated[datetime, typer.Option(formats=DATE_FORMATS, help="First bar (UTC)")],
    timeframe: Annotated[Timeframe, typer.Option(help="Bar timeframe")] = Timeframe.D1,
    end: Annotated[
        datetime | None, typer.Option(formats=DATE_FORMATS, help="Last bar (UTC) [default: last]")
    ] = None,
    speed: Annotated[float, typer.Option(help="Bars per second; 0: as fast as possible")] = 1.0,
) -> None:
    """Replay stored bars as market events (docs/events.md, Market replay)."""
    from quantdesk.marketdata.replay.run import ReplayRequest
    from quantdesk.marketdata.replay.schemas import ReplayCreate

    settings = checked_settings(err)
    raw: dict[str, Any] = {
        "symbol": symbol,
        "timeframe": timeframe.value,
        "start": start.replace(tzinfo=UTC),
        "end": end.replace(tzinfo=UTC) if end is not None else None,
        "speed": speed,
    }
    try:
        body = ReplayCreate.model_validate(raw)
    except ValidationError as error:
        for problem in error.errors():
            err.print(f"[red]error:[/red] {option_name(problem['loc'])}: {problem['msg']}")
        raise typer.Exit(2) from error
    auto_migrate(settings)
    request = ReplayRequest(
        body.symbol,
        body.timeframe,
        int(body.start.timestamp()),
        int(body.end.timestamp()) if body.end is not None else None,
        body.speed,
    )
    try:
        view = asyncio.run(run_replay(settings, request, printer=_print_progress))
    except KeyboardInterrupt:
        err.print("[yellow]stopped[/yellow] (Ctrl-C): `stopped` was published")
        raise typer.Exit(130) from None
    except AppError as error:
        err.print(f"[red]error:[/red] {error.detail}")
        for item in error.errors or []:
            err.print(f"  {option_name(item.get('loc') or [])}: {item.get('msg', '')}")
        raise typer.Exit(1) from error
    out.print(
        f"{view.symbol} {request.timeframe.value}: {view.bars_emitted:,} of "
        f"{view.bars_total:,} bars replayed ({view.state})",
        highlight=False,
    )


async def run_replay(
    settings: Settings,
    request: ReplayRequest,
    *,
    events: EventBus | None = None,
    printer: Printer | None = None,
) -> ReplayView:
    """Run one replay to its end on `events` (default: a bus built from the settings, closed
    at the end); `printer` sees the status every second. Cancelled (Ctrl-C), it publishes
    `stopped` before returning the cancellation."""
    from quantdesk.db import Database
    from quantdesk.infra.events import MarketProgress, build_event_bus
    from quantdesk.marketdata.replay.service import ReplayManager

    db = Database(settings)
    bus = events if events is not None else build_event_bus(settings)
    manager = ReplayManager(settings, db, bus, MarketProgress())
    try:
        await manager.start(request)
        replay = manager.current
        assert replay is not None
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(replay.wait()), PROGRESS_SECONDS)
                break
            except TimeoutError:
                if printer is not None:
                    printer(manager.status())
        return manager.status()
    finally:
        await manager.aclose()
        if events is None:
            await bus.aclose()
        await db.dispose()


def _print_progress(view: ReplayView) -> None:
    position = (
        datetime.fromtimestamp(view.position, UTC).strftime("%Y-%m-%d %H:%M")
        if view.position is not None
        else "-"
    )
    err.print(
        f"{view.symbol} at {position}: {view.bars_emitted:,}/{view.bars_total:,} bars",
        highlight=False,
    )
