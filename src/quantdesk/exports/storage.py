"""Where finished export files live: a local folder (default) or an S3-compatible bucket.

Every file is first written to a staging file under `exports_dir/staging` (writers need a
seekable local file: Parquet footers, XLSX zip), then `put` moves it into the store under its
key. Reads are byte ranges, so downloads support HTTP Range on either store.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from quantdesk.config import ConfigError, Settings

CHUNK = 256 * 1024


class ExportStorage(ABC):
    name: str

    @abstractmethod
    async def put(self, staging: Path, key: str) -> None:
        """Move the finished staging file into the store under `key`."""

    @abstractmethod
    async def size(self, key: str) -> int | None:
        """The stored file's size, or None when it is not there."""

    @abstractmethod
    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` (inclusive) of the stored file, in chunks."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the file (nothing happens when it is not there)."""


class LocalStorage(ExportStorage):
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"not an export key: {key!r}")
        return path

    async def put(self, staging: Path, key: str) -> None:
        target = self._path(key)
        await anyio.to_thread.run_sync(_move, staging, target)

    async def size(self, key: str) -> int | None:
        try:
            return (await anyio.Path(self._path(key)).stat()).st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as handle:
            await handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = await handle.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)


def _move(staging: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)


class S3Storage(ExportStorage):
    """An S3-compatible bucket through boto3 (installed separately: `pip install boto3`);
    every call runs in a worker thread."""

    name = "s3"

    def __init__(self, settings: Settings) -> None:
        try:
            import boto3
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise ConfigError(
                "QUANTDESK_EXPORTS_STORAGE=s3 needs boto3: pip install boto3"
            ) from error
        if not settings.exports_s3_bucket:
            raise ConfigError("QUANTDESK_EXPORTS_STORAGE=s3 needs QUANTDESK_EXPORTS_S3_BUCKET")
        secret = settings.exports_s3_secret_access_key
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.exports_s3_endpoint_url,
            region_name=settings.exports_s3_region,
            aws_access_key_id=settings.exports_s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
        )
        self.bucket = settings.exports_s3_bucket
        self.prefix = settings.exports_s3_prefix

    async def put(self, staging: Path, key: str) -> None:
        def upload() -> None:
            self.client.upload_file(str(staging), self.bucket, self.prefix + key)
            staging.unlink(missing_ok=True)

        await anyio.to_thread.run_sync(upload)

    async def size(self, key: str) -> int | None:
        def head() -> int | None:
            try:
                answer = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
            except self.client.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                    return None
                raise
            return int(answer["ContentLength"])

        return await anyio.to_thread.run_sync(head)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        answer = await anyio.to_thread.run_sync(
            lambda: self.client.get_object(
                Bucket=self.bucket, Key=self.prefix + key, Range=f"bytes={start}-{end}"
            )
        )
        body = answer["Body"]
        try:
            while chunk := await anyio.to_thread.run_sync(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        )


def staging_dir(settings: Settings) -> Path:
    path = settings.exports_dir / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_storage(settings: Settings) -> ExportStorage:
    if settings.exports_storage == "s3":
        return S3Storage(settings)
    return LocalStorage(settings.exports_dir / "files")
