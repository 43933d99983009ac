"""Export-job settings (quantdesk.exports), mixed into `Settings`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

XLSX_MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header row


class ExportSettings(BaseModel):
    # Where finished files live: "local" (a folder, `exports_dir`) or "s3" (an S3-compatible
    # bucket; staging files are still written under `exports_dir` first).
    exports_storage: Literal["local", "s3"] = "local"
    exports_dir: Path = Path("var/exports")
    exports_s3_bucket: str | None = None
    exports_s3_endpoint_url: str | None = None
    exports_s3_region: str = "us-east-1"
    exports_s3_access_key_id: str | None = None
    exports_s3_secret_access_key: SecretStr | None = None
    exports_s3_prefix: str = "exports/"
    # Signed download links: lifetime when none is asked for, and the most a caller may ask.
    exports_link_ttl_seconds: int = Field(default=900, ge=1, le=86_400)
    exports_link_max_ttl_seconds: int = Field(default=86_400, ge=1, le=86_400)
    # Files (and their export records) are purged this many days after they were made.
    exports_retention_days: int = Field(default=7, ge=1)
    # Rows read from the database per batch: Python rows cost ~1 KB each in flight (two
    # batches at once), so 10,000 keeps an export under ~80 MB of its own at full speed.
    exports_batch_rows: int = Field(default=10_000, ge=1, le=1_000_000)
    # XLSX data rows per sheet; past it the rows go on to the next sheet ("data 2", ...).
    exports_xlsx_max_rows_per_sheet: int = Field(
        default=XLSX_MAX_DATA_ROWS, ge=1, le=XLSX_MAX_DATA_ROWS
    )
    # Exports one user may have queued or running at once (more: 429-like 409).
    exports_max_active_per_user: int = Field(default=5, ge=1)
