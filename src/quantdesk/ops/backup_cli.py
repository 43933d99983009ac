"""`quantdesk db backup [PATH]` and `quantdesk db restore PATH [--force]` (ops/backup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from quantdesk.cli_support import checked_settings

console = Console(stderr=True)


def backup_command(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="File to write (never overwritten). Default: "
            "$QUANTDESK_BACKUPS_DIR/quantdesk-<UTC timestamp>.db (SQLite) or .dump (PostgreSQL)",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Copy the database into one file: SQLite's online backup, or pg_dump's custom format."""
    from quantdesk.ops.backup import BackupError, backup  # only this command pays the import

    settings = checked_settings(console)
    try:
        result = backup(settings, path)
    except BackupError as error:
        console.print(f"[red]backup failed:[/red] {error}")
        raise typer.Exit(1) from error
    typer.echo(f"{result.path}  ({result.engine}, {result.size_bytes} bytes)")


def restore_command(
    path: Annotated[
        Path, typer.Argument(help="A file written by `quantdesk db backup`", dir_okay=False)
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds tables")
    ] = False,
) -> None:
    """Restore the database from a backup; a database holding tables needs --force."""
    from quantdesk.ops.backup import BackupError, restore

    settings = checked_settings(console)
    try:
        result = restore(settings, path, force=force)
    except BackupError as error:
        console.print(f"[red]restore failed:[/red] {error}")
        raise typer.Exit(1) from error
    replaced = " (replaced what was there)" if result.replaced else ""
    typer.echo(f"restored {result.path} into {result.database}{replaced}")
