"""Shared helpers of the export tests: synthetic bars stored in the database, signed-in
callers, queuing an export and waiting for it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert

from quantdesk.access.scopes import Role
from quantdesk.db import Database
from quantdesk.jobs.runner import wait_for_spawned
from quantdesk.models import AssetClass, Bar, Instrument
from tests.support.accounts import bearer, create_user, login

URL = "/api/v1/exports"
BAR_START = 1_700_000_000  # 2023-11-14T22:13:20Z


async def signed_in(client: httpx.AsyncClient, db: Database, role: Role) -> dict[str, str]:
    return bearer(await login(client, await create_user(db, role)))


def bar_rows(instrument_id: int, count: int, *, timeframe: str = "1m") -> list[dict[str, Any]]:
    """``count`` one-minute bars from BAR_START, prices i + 0.25 (exact in every format)."""
    return [
        {
            "instrument_id": instrument_id,
            "timeframe": timeframe,
            "ts": BAR_START + 60 * i,
            "open": i + 0.25,
            "high": i + 1.5,
            "low": i - 0.5,
            "close": i + 0.75,
            "volume": float(i),
        }
        for i in range(count)
    ]


async def store_bars(db: Database, symbol: str, count: int, *, timeframe: str = "1m") -> int:
    """An instrument ``symbol`` with ``count`` synthetic bars; its id."""
    async with db.session() as session:
        result = await session.execute(
            insert(Instrument)
            .values(
                symbol=symbol,
                name=f"{symbol} test",
                exchange="TEST",
                asset_class=AssetClass.EQUITY,
                currency="USD",
            )
            .returning(Instrument.id)
        )
        instrument_id = int(result.scalar_one())
        rows = bar_rows(instrument_id, count, timeframe=timeframe)
        for start in range(0, len(rows), 5_000):
            await session.execute(insert(Bar), rows[start : start + 5_000])
    return instrument_id


async def create_export(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> str:
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 202, response.text
    export_id: str = response.json()["id"]
    return export_id


async def finished(
    app: FastAPI, client: httpx.AsyncClient, export_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    """The export's status body once it has completed or failed."""
    for _ in range(400):
        await wait_for_spawned()
        await app.state.jobs.runner.drain()
        response = await client.get(f"{URL}/{export_id}", headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {export_id} did not finish")


async def exported(
    app: FastAPI,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    body: dict[str, Any],
) -> tuple[dict[str, Any], bytes]:
    """Queue ``body``, wait for it to complete, download it: (status body, file bytes)."""
    export_id = await create_export(client, headers, body)
    status = await finished(app, client, export_id, headers)
    assert status["status"] == "completed", status
    response = await client.get(status["download_url"])
    assert response.status_code == 200, response.text
    return status, response.content
