"""`quantdesk cluster up|status|down` (registered in quantdesk/cli.py; docs/scale-out.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from quantdesk.cluster.binaries import BinaryMissing
from quantdesk.cluster.state import DEFAULT_DIR, STATE_FILE

console = Console(stderr=True)
cluster_app = typer.Typer(
    help="A loopback cluster: PostgreSQL, Redis, haproxy, API replicas, Celery workers, beat.",
    no_args_is_help=True,
)
DirOption = Annotated[
    Path, typer.Option("--dir", help="State directory: pids, ports, logs, cluster.json")
]


@cluster_app.command("up")
def cluster_up(
    replicas: Annotated[int, typer.Option(min=1, max=16, help="API replicas")] = 3,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Celery workers")] = 2,
    directory: DirOption = DEFAULT_DIR,
) -> None:
    """Start the cluster on 127.0.0.1 (migrated, demo loaded) and wait until every replica is
    ready behind haproxy."""
    from quantdesk.cluster.launch import ClusterError, up

    try:
        state = up(directory, replicas, workers)
    except (BinaryMissing, ClusterError, TimeoutError) as error:
        console.print(f"[red]cluster up failed: {error}[/red]")
        raise typer.Exit(1) from error
    typer.echo(f"cluster up: {state.url} ({replicas} replicas, {workers} workers)")
    typer.echo(f"state: {Path(state.dir) / STATE_FILE}")
    typer.echo(f"demo sign-in: {state.demo.email} / {state.demo.password}")
    typer.echo(f"admin sign-in: {state.admin.email} / {state.admin.password}")


@cluster_app.command("status")
def cluster_status(directory: DirOption = DEFAULT_DIR) -> None:
    """Each process of the cluster: pid, port, running, ready."""
    from quantdesk.cluster.control import status

    if not (directory / STATE_FILE).exists():
        console.print(f"no cluster in {directory}")
        raise typer.Exit(1)
    rows = status(directory)
    table = Table("service", "kind", "pid", "port", "running", "ready", "log")
    for row in rows:
        ready = "" if row.ready is None else ("yes" if row.ready else "NO")
        table.add_row(
            row.name,
            row.kind,
            str(row.pid),
            str(row.port or ""),
            "yes" if row.running else "NO",
            ready,
            row.log,
        )
    Console().print(table)
    if not all(row.running for row in rows):
        raise typer.Exit(1)


@cluster_app.command("down")
def cluster_down(directory: DirOption = DEFAULT_DIR) -> None:
    """Stop everything the cluster started (SIGTERM, SIGKILL after 10 s), even after a crash."""
    from quantdesk.cluster.control import down

    for name, outcome in down(directory):
        typer.echo(f"{name}: {outcome}")
