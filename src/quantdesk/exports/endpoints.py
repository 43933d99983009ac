"""/exports: queue an export (202 + id to poll), read its status and manifest with a fresh
signed download link, list the caller's exports, delete one, download the file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import PUBLIC, current_principal, owner_id, require
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.exports.download import download
from quantdesk.exports.schemas import ExportAccepted, ExportCreate, ExportRead
from quantdesk.exports.service import export_service
from quantdesk.exports.tasks import RUN_JOB
from quantdesk.exports.writers import MEDIA_TYPES
from quantdesk.jobs.dependencies import JobRuntimeDep
from quantdesk.kit.pagination import ListMeta, Page

router = APIRouter(tags=["exports"])

ExportData = Annotated[Principal, Depends(require(Scope.EXPORT_DATA))]
ExportId = Annotated[str, Path(min_length=1, max_length=64, description="Export id from the POST")]
LinkTtl = Annotated[
    int | None,
    Query(
        ge=1,
        le=86_400,
        description="Lifetime of the download link in seconds (default 900, at most 86,400)",
    ),
]


@router.post(
    "/exports",
    status_code=status.HTTP_202_ACCEPTED,
    description=(
        "Queue an export of `kind` rows as a `format` file (csv, parquet, xlsx, or json: "
        "JSON Lines). `params` depend on the kind. Answers 202 with the id at once; poll "
        "GET /exports/{id} until `completed`, then follow its `download_url`."
    ),
)
async def create_export(
    body: Annotated[ExportCreate, Body()],
    principal: ExportData,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobRuntimeDep,
    response: Response,
) -> ExportAccepted:
    owner_id(principal)
    export = await export_service.create(session, settings, principal, body)
    jobs.runner.enqueue_after_commit(session, RUN_JOB, export_id=export.id)
    response.headers["Location"] = f"/api/v1/exports/{export.id}"
    return ExportAccepted(id=export.id, status=export.status)


@router.get("/exports", description="The caller's own exports, newest first (cursor pages).")
async def list_exports(
    principal: ExportData,
    session: SessionDep,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[ExportRead]:
    exports, next_cursor = await export_service.list(
        session, settings, user_id=owner_id(principal), cursor=cursor, limit=limit
    )
    return Page[ExportRead](
        data=exports, meta=ListMeta(count=len(exports), next_cursor=next_cursor)
    )


@router.get(
    "/exports/{export_id}",
    description=(
        "Status, progress and, once completed, the manifest `{rows, bytes, sha256, columns, "
        "as_of}` with a freshly signed `download_url` (valid `link_ttl` seconds)."
    ),
)
async def get_export(
    export_id: ExportId,
    principal: ExportData,
    session: SessionDep,
    settings: SettingsDep,
    link_ttl: LinkTtl = None,
) -> ExportRead:
    if link_ttl is not None:
        link_ttl = min(link_ttl, settings.exports_link_max_ttl_seconds)
    return await export_service.get(
        session, settings, user_id=owner_id(principal), export_id=export_id, link_ttl=link_ttl
    )


@router.delete("/exports/{export_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_export(
    export_id: ExportId, principal: ExportData, session: SessionDep, settings: SettingsDep
) -> None:
    await export_service.delete(session, settings, user_id=owner_id(principal), export_id=export_id)


@router.get(
    "/exports/{export_id}/download",
    dependencies=[PUBLIC],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, in the export's format",
            "content": {media: {} for media in MEDIA_TYPES.values()},
        },
        206: {"description": "The requested byte range"},
    },
    description=(
        "The export's file. The signed `token` from `download_url` is the credential (no "
        "header needed); HTTP Range is supported (206, 416). An expired link is 410; someone "
        "else's export is 404."
    ),
)
async def download_export(
    export_id: ExportId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str, Query(min_length=1, max_length=256)],
    range_header: Annotated[str | None, Header(alias="Range", max_length=256)] = None,
) -> StreamingResponse:
    principal = await current_principal(request)
    return await download(
        session,
        settings,
        principal,
        export_id=export_id,
        token=token,
        range_header=range_header,
    )
