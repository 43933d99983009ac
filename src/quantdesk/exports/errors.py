"""The exports domain's problems (problem+json like every other error)."""

from __future__ import annotations

from quantdesk.errors import AppError, Conflict, NotFound


class ExportNotFound(NotFound):
    code = "export-not-found"

    def __init__(self, export_id: str) -> None:
        super().__init__(f"no export {export_id!r}")


class ExportNotReady(Conflict):
    code = "export-not-ready"


class TooManyExports(Conflict):
    code = "too-many-exports"


class LinkExpired(AppError):
    status, code, title = 410, "link-expired", "Gone"


class RangeNotSatisfiable(AppError):
    status, code, title = 416, "range-not-satisfiable", "Range Not Satisfiable"


class StorageUnavailable(AppError):
    """The S3-compatible store refused or did not answer (the reason is its error code)."""

    status, code, title = 503, "export-storage-unavailable", "Service Unavailable"
