"""GET /exports/{id}/download: check the signed link, then stream the file or one byte range.

A single `Range: bytes=a-b` (or `a-`, or `-n`) is answered 206 with `Content-Range`; a range
past the end is 416 with `Content-Range: bytes */<size>`; several ranges at once are answered
with the whole file (200), which HTTP allows.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.config import Settings
from quantdesk.exports.errors import ExportNotFound, LinkExpired, RangeNotSatisfiable
from quantdesk.exports.links import LinkCheck, check
from quantdesk.exports.schemas import ExportFormat
from quantdesk.exports.service import export_service
from quantdesk.exports.storage import build_storage
from quantdesk.exports.writers import EXTENSIONS, MEDIA_TYPES
from quantdesk.models import ExportStatus

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single satisfiable range; None for no (or a multi-) range;
    RangeNotSatisfiable for one that starts past the end or is malformed."""
    if header is None or "," in header:
        return None
    match = _RANGE.fullmatch(header.strip())
    unsatisfiable = RangeNotSatisfiable(
        f"the file has {size} bytes; ask for a range within them",
        headers={"Content-Range": f"bytes */{size}"},
    )
    if match is None:
        return None  # not a bytes range: ignored, the whole file is served
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text or int(last_text) == 0:
            raise unsatisfiable
        return max(size - int(last_text), 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        raise unsatisfiable
    return first, min(last, size - 1)


async def download(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    *,
    export_id: str,
    token: str,
    range_header: str | None,
) -> StreamingResponse:
    export = await export_service.owned(session, export_id)
    # Someone else's export, a forged token, or a signed-in caller who is not the owner: the
    # export does not exist for them.
    if export is None or (principal.user_id is not None and principal.user_id != export.user_id):
        raise ExportNotFound(export_id)
    verdict = check(settings, token, export.id, export.user_id, time.time())
    if verdict is LinkCheck.INVALID:
        raise ExportNotFound(export_id)
    if verdict is LinkCheck.EXPIRED:
        raise LinkExpired("this download link has expired; GET the export again for a fresh one")
    if export.status is not ExportStatus.COMPLETED or export.storage_key is None:
        raise ExportNotFound(export_id)
    storage = build_storage(settings)
    size = await storage.size(export.storage_key)
    if size is None:
        raise ExportNotFound(export_id)
    fmt = ExportFormat(export.format)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": (
            f'attachment; filename="{export.kind}-{export.id}.{EXTENSIONS[fmt]}"'
        ),
        "Cache-Control": "private, no-store",
    }
    if export.sha256:
        headers["ETag"] = f'"{export.sha256}"'
    wanted = parse_range(range_header, size) if size else None
    if wanted is None:
        first, last, status = 0, size - 1, 200
    else:
        first, last = wanted
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1 if size else 0)
    body = storage.read(export.storage_key, first, last) if size else _nothing()
    return StreamingResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPES[fmt])


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""
