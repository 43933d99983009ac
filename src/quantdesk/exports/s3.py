"""The S3-compatible store of export files (QUANTDESK_EXPORTS_STORAGE=s3), through boto3.

Tested against moto's S3 server (tests/exports/test_s3.py). One client per configuration and
process (`s3_storage`): making one costs ~160 ms the first time and ~6 ms after, on the event
loop. Every call runs in a worker thread. A store that refuses or does not answer is a
`StorageUnavailable` (503) naming the store's error code; a missing object is None from `size`.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from quantdesk.config import ConfigError, Settings
from quantdesk.exports.errors import StorageUnavailable
from quantdesk.exports.storage import CHUNK, ExportStorage
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.exports")
T = TypeVar("T")
_MISSING = ("404", "NoSuchKey", "NoSuchBucket", "NotFound")


class S3Storage(ExportStorage):
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise ConfigError(
                "QUANTDESK_EXPORTS_STORAGE=s3 needs boto3: pip install boto3"
            ) from error
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            # Three attempts with standard backoff (~1.5 s at most between them): a store that
            # is down answers 503 in seconds rather than after botocore's legacy 5 attempts.
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )
        self.bucket = bucket
        self.prefix = prefix

    async def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(call)
        except Exception as error:
            reason = _reason(error)
            if reason is None:
                raise
            log.warning("export store error", operation=what, bucket=self.bucket, reason=reason)
            raise StorageUnavailable(f"the export store failed to {what}: {reason}") from error

    async def put(self, staging: Path, key: str) -> None:
        def upload() -> None:
            try:
                self.client.upload_file(str(staging), self.bucket, self.prefix + key)
            finally:
                staging.unlink(missing_ok=True)

        await self._call("store the file", upload)

    async def size(self, key: str) -> int | None:
        def head() -> int | None:
            try:
                answer = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
            except self.client.exceptions.ClientError as error:
                if error.response.get("Error", {}).get("Code") in _MISSING:
                    return None
                raise
            return int(answer["ContentLength"])

        return await self._call("find the file", head)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        answer = await self._call(
            "read the file",
            lambda: self.client.get_object(
                Bucket=self.bucket, Key=self.prefix + key, Range=f"bytes={start}-{end}"
            ),
        )
        body = answer["Body"]
        try:
            while chunk := await anyio.to_thread.run_sync(body.read, CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self._call(
            "delete the file",
            lambda: self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key),
        )


def s3_storage(settings: Settings) -> S3Storage:
    """The store of these settings, made once per process."""
    if not settings.exports_s3_bucket:
        raise ConfigError("QUANTDESK_EXPORTS_STORAGE=s3 needs QUANTDESK_EXPORTS_S3_BUCKET")
    secret = settings.exports_s3_secret_access_key
    return _cached(
        settings.exports_s3_bucket,
        settings.exports_s3_prefix,
        settings.exports_s3_endpoint_url,
        settings.exports_s3_region,
        settings.exports_s3_access_key_id,
        secret.get_secret_value() if secret else None,
    )


@functools.lru_cache(maxsize=8)
def _cached(
    bucket: str,
    prefix: str,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> S3Storage:
    return S3Storage(
        bucket=bucket,
        prefix=prefix,
        endpoint_url=endpoint_url,
        region=region,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
    )


def _reason(error: BaseException) -> str | None:
    """The store's error code (or the kind of connection failure); None when `error` is not
    about the store at all."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ClientError):
            return str(seen.response.get("Error", {}).get("Code") or "ClientError")
        if isinstance(seen, BotoCoreError):
            return type(seen).__name__
        seen = seen.__cause__ or seen.__context__
    return type(error).__name__ if isinstance(error, Boto3Error) else None
