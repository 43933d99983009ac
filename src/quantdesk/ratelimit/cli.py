"""`quantdesk ratelimit blocks | unblock IP` (registered in quantdesk/cli.py).

They work on the shared limit store (Redis, `QUANTDESK_REDIS_URL`), where every serving
process keeps its abuse blocks; a lift reaches every process within `abuse_recheck_seconds`.
Without Redis the blocks live in the serving process's memory, out of this command's reach:
use `DELETE /api/v1/admin/blocks/{ip}` there instead.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.cli_support import auto_migrate, checked_settings, with_session
from quantdesk.config import Settings
from quantdesk.kit.timeutil import from_epoch, iso_z
from quantdesk.ratelimit.abuse import ActiveBlock
from quantdesk.ratelimit.limiter import build_rate_limiter

console = Console(stderr=True)
ratelimit_app = typer.Typer(help="Rate limiting: abuse blocks.", no_args_is_help=True)

NO_SHARED_STORE = (
    "no shared limit store is configured (QUANTDESK_REDIS_URL): abuse blocks live in the "
    "serving process's memory; lift one with DELETE /api/v1/admin/blocks/{ip} (system:admin) "
    "or restart the server"
)


def _shared_settings() -> Settings:
    settings = checked_settings(console)
    if not settings.redis_url:
        console.print(f"[red]{NO_SHARED_STORE}[/red]")
        raise typer.Exit(1)
    return settings


async def _blocks(settings: Settings) -> list[ActiveBlock]:
    limiter = build_rate_limiter(settings)
    try:
        return await limiter.abuse.blocks()
    finally:
        await limiter.aclose()


async def _unblock(settings: Settings, ip: str) -> bool:
    limiter = build_rate_limiter(settings)
    try:
        return await limiter.abuse.unblock(ip)
    finally:
        await limiter.aclose()


@ratelimit_app.command("blocks")
def blocks() -> None:
    """List the temporary abuse blocks in force (IP, end time, seconds left)."""
    settings = _shared_settings()
    found = asyncio.run(_blocks(settings))
    for block in found:
        typer.echo(f"{block.ip}\t{iso_z(from_epoch(int(block.expires_at)))}\t{block.retry_after()}")
    console.print(f"{len(found)} blocked")


@ratelimit_app.command("unblock")
def unblock(ip: Annotated[str, typer.Argument(help="The blocked IPv4 or IPv6 address")]) -> None:
    """Lift the abuse block on IP in every serving process (audited)."""
    try:
        address = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        console.print(f"[red]{ip!r} is not an IPv4 or IPv6 address[/red]")
        raise typer.Exit(2) from None
    settings = _shared_settings()
    if not asyncio.run(_unblock(settings, address)):
        console.print(f"[yellow]{address} is not blocked[/yellow]")
        raise typer.Exit(1)
    auto_migrate(settings)

    async def record(session: AsyncSession) -> None:
        from quantdesk.audit.service import audit_service

        await audit_service.record(
            session,
            action="ratelimit.ip_unblocked",
            ip="cli",
            user_agent="quantdesk-cli",
            resource_type="ip",
            resource_id=address,
        )

    with_session(settings, record)
    console.print(f"[green]{address} unblocked[/green]")
