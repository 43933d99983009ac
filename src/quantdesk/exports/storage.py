"""Where finished export files live: a local folder (default) or an S3-compatible bucket.

Every file is first written to a staging file under `exports_dir/staging` (writers need a
seekable local file: Parquet footers, XLSX zip), then `put` moves it into the store under its
key. Reads are byte ranges, so downloads support HTTP Range on either store. The S3 store is
in quantdesk.exports.s3.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread

from quantdesk.config import Settings

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


def staging_dir(settings: Settings) -> Path:
    path = settings.exports_dir / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_storage(settings: Settings) -> ExportStorage:
    if settings.exports_storage == "s3":
        from quantdesk.exports.s3 import s3_storage

        return s3_storage(settings)
    return LocalStorage(settings.exports_dir / "files")
