"""Helpers every `quantdesk` sub-command shares: checked settings, the development
auto-migration and one unit of work run to completion."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk import migrate
from quantdesk.config import ConfigError, Settings, get_settings
from quantdesk.db import Database

T = TypeVar("T")


def checked_settings(console: Console) -> Settings:
    """The settings, or exit 2 naming what is wrong with them."""
    settings = get_settings()
    try:
        settings.check()
    except ConfigError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error
    return settings


def auto_migrate(settings: Settings) -> None:
    """Development keeps its SQLite schema current by itself; elsewhere migrating is an
    explicit, reviewed step (`quantdesk db upgrade`)."""
    if settings.is_development:
        migrate.upgrade(settings.database_url)


def with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed unit of work on a fresh engine."""

    async def run() -> T:
        db = Database(settings)
        try:
            async with db.session() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


def option_name(
    loc: Sequence[str | int],
    *,
    params_option: str = "--param",
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Where a validation error points, as the command-line option to fix: `("body",
    "stop_loss_pct")` -> `--stop-loss-pct`, `("params", "fast")` -> `--param fast`, not the
    HTTP-style `body.stop_loss_pct`. `aliases` names options whose field differs."""
    parts = [str(part) for part in loc if part not in ("body", "query", "path")]
    if not parts:
        return "arguments"
    if parts[0] == "params" and len(parts) > 1:
        return f"{params_option} {parts[1]}"
    if aliases and parts[0] in aliases:
        return aliases[parts[0]]
    return "--" + parts[0].replace("_", "-")
