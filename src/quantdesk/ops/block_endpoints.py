"""/admin/blocks: the temporary abuse blocks in force, and lifting one (system:admin).

The static blocklist (`QUANTDESK_IP_BLOCKLIST`) is configuration and is not listed here.
With Redis configured, the list covers every process and a lift applies to all of them
(within `abuse_recheck_seconds`); without it, this process's blocks.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel, ConfigDict

from quantdesk.audit.service import audit_service
from quantdesk.auth.dependencies import SystemAdmin
from quantdesk.dependencies import SessionDep
from quantdesk.errors import NotFound, Unprocessable, field_error
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.ratelimit.abuse import ActiveBlock
from quantdesk.ratelimit.dependencies import get_rate_limiter

router = APIRouter(prefix="/admin/blocks", tags=["admin"])
IpPath = Annotated[str, Path(min_length=1, max_length=64, description="IPv4 or IPv6 address")]


class BlockRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ip: str
    reason: str = "abuse"
    expires_at: datetime
    retry_after: int  # seconds until the block ends

    @classmethod
    def of(cls, block: ActiveBlock) -> BlockRead:
        return cls(
            ip=block.ip,
            expires_at=datetime.fromtimestamp(block.expires_at, UTC).replace(microsecond=0),
            retry_after=block.retry_after(),
        )


class BlockNotFound(NotFound):
    code = "block-not-found"


def parse_ip(value: str) -> str:
    """The canonical form of an IP address (the form blocks are stored under), or 422."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        message = f"{value!r} is not an IPv4 or IPv6 address"
        raise Unprocessable(
            f"ip: {message}", errors=[field_error(["path", "ip"], message)]
        ) from None


@router.get("", description="Temporary abuse blocks in force, soonest to end first.")
async def list_blocks(_: SystemAdmin, request: Request) -> Page[BlockRead]:
    blocks = [BlockRead.of(block) for block in await get_rate_limiter(request).abuse.blocks()]
    return Page[BlockRead](data=blocks, meta=ListMeta(count=len(blocks)))


@router.delete(
    "/{ip}",
    status_code=status.HTTP_204_NO_CONTENT,
    description="Lift a temporary abuse block (audited as `ratelimit.ip_unblocked`).",
)
async def delete_block(
    ip: IpPath, admin: SystemAdmin, request: Request, session: SessionDep
) -> None:
    address = parse_ip(ip)
    if not await get_rate_limiter(request).abuse.unblock(address):
        raise BlockNotFound(f"{address} is not blocked")
    await audit_service.record(
        session,
        action="ratelimit.ip_unblocked",
        actor=admin,
        user_agent=request.headers.get("user-agent"),
        resource_type="ip",
        resource_id=address,
    )
