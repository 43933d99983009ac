"""Signed download links: Range (206, 416), 410 once expired, 404 for anyone else's; XLSX
splits across sheets instead of truncating; `export_ready` is emitted; old exports purge."""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.exports.links import sign
from quantdesk.exports.service import export_service
from quantdesk.infra.events import Event, on_emit, remove_emit_hook
from quantdesk.models import utcnow
from tests.support.exports import URL, create_export, exported, finished, store_bars
from tests.support.settings import make_settings

BARS = {"kind": "bars", "format": "csv", "params": {"symbol": "EXPT", "timeframe": "1m"}}


async def test_range_requests_answer_206_and_416(
    app: FastAPI, client: httpx.AsyncClient, db: Database, analyst: dict[str, str]
) -> None:
    await store_bars(db, "EXPT", 300)
    status, content = await exported(app, client, analyst, BARS)
    url, size = status["download_url"], len(content)
    part = await client.get(url, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.content == content[10:100]
    assert part.headers["Content-Range"] == f"bytes 10-99/{size}"
    tail = await client.get(url, headers={"Range": "bytes=-25"})
    assert tail.status_code == 206 and tail.content == content[-25:]
    rest = await client.get(url, headers={"Range": f"bytes={size - 5}-"})
    assert rest.status_code == 206 and rest.content == content[-5:]
    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"
    assert beyond.headers["content-type"].startswith("application/problem+json")
    whole = await client.get(url)
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.content == content


async def test_an_expired_link_is_410_and_a_foreign_or_forged_one_404(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    analyst: dict[str, str],
    other_analyst: dict[str, str],
) -> None:
    await store_bars(db, "EXPT", 10)
    mine, _ = await exported(app, client, analyst, BARS)
    theirs, _ = await exported(app, client, other_analyst, BARS)
    export_id = mine["id"]
    async with db.session() as session:
        export = await export_service.owned(session, export_id)
    assert export is not None
    expired = sign(settings, export_id, export.user_id, int(time.time()) - 1)
    response = await client.get(f"{URL}/{export_id}/download", params={"token": expired})
    assert response.status_code == 410
    # Their genuine token on my export, a token signed for another user, a forged one.
    their_token = parse_qs(urlparse(theirs["download_url"]).query)["token"][0]
    future = int(time.time()) + 600
    for token in (their_token, sign(settings, export_id, export.user_id + 1, future), "1.x"):
        response = await client.get(f"{URL}/{export_id}/download", params={"token": token})
        assert response.status_code == 404
    # My valid link, fetched while signed in as someone else: not theirs to see.
    assert (await client.get(mine["download_url"], headers=other_analyst)).status_code == 404
    assert (await client.get(mine["download_url"], headers=analyst)).status_code == 200


async def test_link_lifetime_defaults_to_15_minutes_and_is_at_most_24_hours(
    app: FastAPI, client: httpx.AsyncClient, db: Database, analyst: dict[str, str]
) -> None:
    await store_bars(db, "EXPT", 3)
    status, _ = await exported(app, client, analyst, BARS)
    expires = parse_qs(urlparse(status["download_url"]).query)["token"][0].split(".")[0]
    assert abs(int(expires) - time.time() - 900) < 60
    day = await client.get(f"{URL}/{status['id']}", params={"link_ttl": 86_400}, headers=analyst)
    assert day.status_code == 200
    longer = await client.get(f"{URL}/{status['id']}", params={"link_ttl": 86_401}, headers=analyst)
    assert longer.status_code == 422


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Three sheets' worth of rows in 100 (the real limit is Excel's 1,048,575)."""
    return make_settings(
        database_url, exports_dir=tmp_path / "exports", exports_xlsx_max_rows_per_sheet=40
    )


async def test_xlsx_past_the_sheet_limit_splits_across_sheets_with_naive_utc_times(
    app: FastAPI, client: httpx.AsyncClient, db: Database, analyst: dict[str, str]
) -> None:
    await store_bars(db, "EXPT", 100)
    body = {**BARS, "format": "xlsx"}
    status, content = await exported(app, client, analyst, body)
    assert status["manifest"]["rows"] == 100
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert book.sheetnames == ["data", "data 2", "data 3"]
    rows = [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    headers = [row for row in rows if row[0] == "time (UTC)"]
    data = [row for row in rows if row[0] != "time (UTC)"]
    assert len(headers) == 3 and headers[0][1:] == ("open", "high", "low", "close", "volume")
    assert len(data) == 100  # 40 + 40 + 20: nothing dropped
    first = data[0][0]
    assert isinstance(first, datetime)
    assert first.tzinfo is None and first.isoformat() == "2023-11-14T22:13:20"
    assert data[-1][1:] == (99.25, 100.5, 98.5, 99.75, 99.0)


async def test_export_ready_is_emitted_in_the_completing_transaction(
    app: FastAPI, client: httpx.AsyncClient, db: Database, analyst: dict[str, str]
) -> None:
    seen: list[Event] = []

    async def hook(_session: AsyncSession, events: Sequence[Event]) -> None:
        seen.extend(event for event in events if event.payload.type_name == "export_ready")

    await store_bars(db, "EXPT", 7)
    on_emit(hook)
    try:
        status, _ = await exported(app, client, analyst, BARS)
    finally:
        remove_emit_hook(hook)
    assert len(seen) == 1
    event = seen[0]
    assert event.topic.startswith("exports.")
    payload = event.payload.to_dict()
    assert payload["export_id"] == status["id"] and payload["rows"] == 7
    assert payload["sha256"] == status["manifest"]["sha256"]


async def test_the_purge_removes_exports_and_files_past_retention(
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    analyst: dict[str, str],
) -> None:
    await store_bars(db, "EXPT", 5)
    export_id = await create_export(client, analyst, BARS)
    status = await finished(app, client, export_id, analyst)
    files = list((settings.exports_dir / "files").rglob("*.csv"))
    assert len(files) == 1
    assert await export_service.purge(db, settings) == 0
    later = utcnow() + timedelta(days=settings.exports_retention_days, seconds=1)
    assert await export_service.purge(db, settings, now=later) == 1
    assert not files[0].exists()
    assert (await client.get(f"{URL}/{export_id}", headers=analyst)).status_code == 404
    assert (await client.get(status["download_url"])).status_code == 404
