"""`quantdesk worker`, `quantdesk beat` and `quantdesk jobs ...` (registered in quantdesk/cli.py).

Worker and beat hand over to Celery's own commands for the quantdesk app; options after the
command that quantdesk does not know (`--concurrency 4`, `--pool solo`, ...) pass through.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from quantdesk.cli_support import checked_settings
from quantdesk.config import ConfigError, Settings
from quantdesk.errors import AppError

console = Console(stderr=True)
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
jobs_app = typer.Typer(
    help="Background jobs: list them, run one now, show recent runs.", no_args_is_help=True
)


def _settings() -> Settings:
    return checked_settings(console)


def _celery(settings: Settings) -> Any:
    from quantdesk.jobs.celery_app import create_celery, use_quantdesk_logging

    try:
        app = create_celery(settings)
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    use_quantdesk_logging(settings)
    return app


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: CPU count)")
    ] = None,
) -> None:
    """Run a Celery worker executing quantdesk jobs (QUANTDESK_JOBS_BACKEND=celery)."""
    settings = _settings()
    argv = ["worker", f"--loglevel={settings.log_level}", "--queues", settings.celery_queue]
    if concurrency is not None:
        argv += ["--concurrency", str(concurrency)]
    _celery(settings).worker_main(argv=[*argv, *ctx.args])


def beat(ctx: typer.Context) -> None:
    """Run Celery beat: sends each scheduled job to the workers when its cron fires."""
    settings = _settings()
    schedule_file = settings.celery_beat_schedule_file
    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    argv = ["beat", f"--loglevel={settings.log_level}", "--schedule", str(schedule_file)]
    _celery(settings).start(argv=[*argv, *ctx.args])


@jobs_app.command("list")
def jobs_list() -> None:
    """Registered jobs and when each runs next."""
    from quantdesk.jobs.registry import registered
    from quantdesk.jobs.schedule import schedule_from_settings
    from quantdesk.kit.timeutil import iso_z
    from quantdesk.models import utcnow

    settings = _settings()
    crons = {entry.name: entry for entry in schedule_from_settings(settings)}
    table = Table("job", "cron", "next run (UTC)")
    now = utcnow()
    for name in registered():
        entry = crons.get(name)
        table.add_row(
            name,
            f"{entry.cron.expression} ({entry.cron.timezone})" if entry else "on demand",
            iso_z(entry.cron.next_after(now)) if entry else "",
        )
    Console().print(table)


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="Job name, e.g. maintenance.cleanup")],
    args: Annotated[str, typer.Option(help="Keyword arguments as a JSON object")] = "{}",
) -> None:
    """Run one job here and now (with retries), recorded in job_runs like any other run."""
    from quantdesk.db import Database
    from quantdesk.jobs.inprocess import InProcessRunner
    from quantdesk.jobs.service import job_run_service

    settings = _settings()
    try:
        kwargs = json.loads(args)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"--args is not JSON: {error}") from error
    if not isinstance(kwargs, dict):
        raise typer.BadParameter("--args must be a JSON object")

    async def run() -> tuple[str, str | None, dict[str, Any] | None]:
        db = Database(settings)
        runner = InProcessRunner(db, settings)
        try:
            await runner.start()
            job = await runner.enqueue(name, **kwargs)
            await runner.drain()  # follow-up jobs it started run too
            async with db.session() as session:
                record = await job_run_service.get(session, job.run_id)
            return record.status.value, record.error, record.result
        finally:
            await runner.stop()
            await db.dispose()

    try:
        status, failed, result = asyncio.run(run())
    except AppError as failure:
        console.print(f"[red]error:[/red] {failure.detail}")
        raise typer.Exit(1) from failure
    color = "red" if failed else "yellow" if status == "skipped" else "green"
    console.print(f"[{color}]{name}: {status}: {summary(result)}[/{color}]", highlight=False)
    for item in (result or {}).get("skipped", []):
        console.print(f"  skipped {item['subject']}: {item['reason']}", highlight=False)
    if failed:
        console.print(f"[red]  error: {failed}[/red]", highlight=False)
        raise typer.Exit(1)


@jobs_app.command("runs")
def jobs_runs(
    name: Annotated[str | None, typer.Option(help="Only this job")] = None,
    status: Annotated[str | None, typer.Option(help="Only runs in this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first")] = 20,
) -> None:
    """Recent runs, newest first: status, when, and what each did (or its error)."""
    from quantdesk.db import Database
    from quantdesk.jobs.service import job_run_service
    from quantdesk.kit.timeutil import iso_z
    from quantdesk.models import JobStatus

    settings = _settings()
    try:
        wanted = JobStatus(status) if status is not None else None
    except ValueError as error:
        choices = ", ".join(member.value for member in JobStatus)
        raise typer.BadParameter(f"--status must be one of {choices}") from error

    async def read() -> list[tuple[int, str, str, str, str]]:
        db = Database(settings)
        try:
            async with db.session() as session:
                runs, _ = await job_run_service.search(
                    session, name=name, status=wanted, limit=limit
                )
                return [
                    (
                        run.id,
                        run.name,
                        run.status.value,
                        iso_z(run.finished_at) if run.finished_at else "",
                        run.error or summary(run.result),
                    )
                    for run in runs
                ]
        finally:
            await db.dispose()

    table = Table("id", "job", "status", "finished (UTC)", "result")
    for run_id, job, state, finished, outcome in asyncio.run(read()):
        table.add_row(str(run_id), job, state, finished, outcome)
    Console().print(table)


def summary(result: dict[str, Any] | None) -> str:
    """One line for a stored JobResult: why it did nothing, or what it wrote and skipped."""
    if not result:
        return "no result recorded"
    if result.get("reason"):
        return str(result["reason"])
    parts = [f"{result.get('rows_written', 0)} rows written"]
    if result.get("written"):
        parts.append(f"{len(result['written'])} subjects")
    if result.get("skipped"):
        parts.append(f"{len(result['skipped'])} skipped")
    parts += [f"{key} {value}" for key, value in (result.get("counts") or {}).items()]
    return ", ".join(parts)
