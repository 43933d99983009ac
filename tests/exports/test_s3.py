"""The S3 store against a real S3-compatible server (moto's, on 127.0.0.1): the export is
uploaded to the bucket with the manifest's bytes and SHA-256, downloads (whole and HTTP Range)
are read from the bucket, DELETE and the purge delete the object; a failed upload fails the
export (no staging file left) and a store that does not answer is a 503."""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.exports.errors import StorageUnavailable
from quantdesk.exports.service import export_service
from quantdesk.exports.storage import build_storage
from quantdesk.models import utcnow
from tests.support.exports import URL, create_export, exported, finished, store_bars
from tests.support.s3 import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    moto_s3_server,
    object_keys,
    s3_client,
)
from tests.support.settings import make_settings

BARS = {"kind": "bars", "format": "csv", "params": {"symbol": "EXPT", "timeframe": "1m"}}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str) -> str:
    name = f"exports-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def settings(database_url: str, tmp_path: Path, s3_endpoint: str, bucket: str) -> Settings:
    return make_settings(
        database_url,
        exports_dir=tmp_path / "exports",
        exports_storage="s3",
        exports_s3_endpoint_url=s3_endpoint,
        exports_s3_bucket=bucket,
        exports_s3_region=REGION,
        exports_s3_access_key_id=ACCESS_KEY_ID,
        exports_s3_secret_access_key=SECRET_ACCESS_KEY,
    )


def stored(s3_endpoint: str, bucket: str) -> dict[str, bytes]:
    client = s3_client(s3_endpoint)
    return {
        key: client.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in object_keys(client, bucket)
    }


async def test_an_export_goes_to_the_bucket_and_downloads_from_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    s3_endpoint: str,
    bucket: str,
    analyst: dict[str, str],
) -> None:
    await store_bars(db, "EXPT", 500)
    status, content = await exported(app, client, analyst, BARS)
    manifest: dict[str, Any] = status["manifest"]
    objects = stored(s3_endpoint, bucket)
    # One object, under the prefix, holding exactly the manifest's bytes.
    [(key, data)] = objects.items()
    assert key.startswith("exports/") and key.endswith(f"/{status['id']}.csv")
    assert len(data) == manifest["bytes"] and manifest["rows"] == 500
    assert hashlib.sha256(data).hexdigest() == manifest["sha256"]
    assert content == data
    # Nothing kept on the local disk: no local store, no staging file left behind.
    assert not (settings.exports_dir / "files").exists()
    assert list((settings.exports_dir / "staging").iterdir()) == []
    url, size = status["download_url"], len(data)
    part = await client.get(url, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.content == data[10:100]
    assert part.headers["Content-Range"] == f"bytes 10-99/{size}"
    tail = await client.get(url, headers={"Range": "bytes=-25"})
    assert tail.status_code == 206 and tail.content == data[-25:]
    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"
    # An object gone from the bucket behind the server's back: 404, not a 500.
    s3_client(s3_endpoint).delete_object(Bucket=bucket, Key=key)
    assert (await client.get(url)).status_code == 404


async def test_delete_and_the_purge_delete_the_objects(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    s3_endpoint: str,
    bucket: str,
    analyst: dict[str, str],
) -> None:
    await store_bars(db, "EXPT", 20)
    kept, _ = await exported(app, client, analyst, BARS)
    removed, _ = await exported(app, client, analyst, BARS)
    assert len(stored(s3_endpoint, bucket)) == 2
    response = await client.delete(f"{URL}/{removed['id']}", headers=analyst)
    assert response.status_code == 204
    [key] = stored(s3_endpoint, bucket)
    assert key.endswith(f"/{kept['id']}.csv")
    assert await export_service.purge(db, settings) == 0
    later = utcnow() + timedelta(days=settings.exports_retention_days, seconds=1)
    assert await export_service.purge(db, settings, now=later) == 1
    assert stored(s3_endpoint, bucket) == {}
    assert (await client.get(kept["download_url"])).status_code == 404


async def test_a_failed_upload_fails_the_export_and_leaves_no_staging_file(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    s3_endpoint: str,
    bucket: str,
    analyst: dict[str, str],
) -> None:
    s3_client(s3_endpoint).delete_bucket(Bucket=bucket)
    await store_bars(db, "EXPT", 20)
    export_id = await create_export(client, analyst, BARS)
    status = await finished(app, client, export_id, analyst)
    assert status["status"] == "failed" and status["manifest"] is None
    assert "NoSuchBucket" in status["error"], status["error"]
    assert list((settings.exports_dir / "staging").iterdir()) == []


async def test_a_store_that_does_not_answer_is_503_and_clients_are_made_once(
    settings: Settings, s3_endpoint: str
) -> None:
    assert build_storage(settings) is build_storage(settings)  # one client per process
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = build_storage(
        settings.model_copy(update={"exports_s3_endpoint_url": f"http://127.0.0.1:{closed}"})
    )
    assert down is not build_storage(settings)
    with pytest.raises(StorageUnavailable) as raised:
        await down.size("1/x.csv")
    assert raised.value.status == 503
    assert "EndpointConnectionError" in raised.value.detail
