"""The foundation benchmark's serving runs: `GET /bars` through the app against raw reads.

One symbol's 100,000 bars from `GET /api/v1/bars/{symbol}?format=columns` through
`create_app()` (asgi-lifespan, an httpx ASGI transport, the app's logs sent to /dev/null),
interleaved with reading the same rows raw into Python with the driver the app uses
(aiosqlite, asyncpg) and, for information, stdlib `sqlite3`.

The app runs with its bars cache on, as deployed. The serve path proper is measured
uncached: every timed request has its own `end` (a second later each time, past the last
bar, so the answer is the same 100,000 bars) and is therefore a cache miss (checked on
`X-Cache`). The cached path, one fixed URL answered from the cache, is timed as its own row.
"""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import httpx
import orjson
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp

from benchmarks._foundation_data import (
    SQLITE_PRAGMAS,
    SYMBOLS,
    TIMEFRAME,
    Series,
    Timings,
    expected_ids,
    settings_for,
)
from quantdesk.app import create_app

SERVE_SYMBOL = SYMBOLS[0]
SQLITE_READ = (
    "SELECT ts, open, high, low, close, volume FROM bars "
    "WHERE instrument_id = ? AND timeframe = ? ORDER BY ts"
)
PG_READ = (
    "SELECT ts, open, high, low, close, volume FROM bars "
    "WHERE instrument_id = $1 AND timeframe = $2 ORDER BY ts"
)


@dataclass(frozen=True)
class ServeCase:
    url: str
    symbol: str
    instrument_id: int
    first_ts: int
    last_ts: int
    count: int


@dataclass
class ServeTimings:
    uncached: list[float]  # GET /bars, each request a cache miss (its own key)
    cached: list[float]  # GET /bars, one key, each request a cache hit


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bars_path(case: ServeCase, *, end: int | None = None) -> str:
    """The query; `end` (at or after the last bar) gives the same bars under another key."""
    path = (
        f"/api/v1/bars/{case.symbol}?timeframe={TIMEFRAME.value}&limit={case.count}"
        f"&format=columns&start={iso(case.first_ts)}"
    )
    return path if end is None else f"{path}&end={iso(end)}"


def check_body(body: bytes, case: ServeCase) -> None:
    payload = orjson.loads(body)
    assert payload["meta"]["count"] == case.count, payload["meta"]
    assert len(payload["data"]["c"]) == case.count
    assert payload["data"]["t"][0] == case.first_ts
    assert payload["data"]["t"][-1] == case.last_ts


@contextmanager
def quiet_log_output() -> Iterator[None]:
    """Send the app's log lines (startup, one access line per request) to /dev/null: they are
    still formatted by the app's structlog pipeline, only not printed over the results."""
    with open(os.devnull, "w") as sink:
        handlers = [
            handler
            for handler in logging.getLogger().handlers
            if isinstance(handler, logging.StreamHandler)
        ]
        previous = [handler.setStream(sink) for handler in handlers]
        try:
            yield
        finally:
            for handler, stream in zip(handlers, previous, strict=True):
                handler.setStream(stream)


async def measure_serve(
    case: ServeCase,
    references: Sequence[tuple[Callable[[], Awaitable[int]], list[float]]],
    repeats: int,
) -> ServeTimings:
    """Best-of timing of GET /bars through the ASGI app, uncached and cached, interleaved
    with the raw reads."""
    app = create_app(settings_for(case.url))
    with quiet_log_output():
        return await serve_through_app(app, case, references, repeats)


async def serve_through_app(
    app: ASGIApp,
    case: ServeCase,
    references: Sequence[tuple[Callable[[], Awaitable[int]], list[float]]],
    repeats: int,
) -> ServeTimings:
    timings = ServeTimings([], [])
    keys = iter(range(1, 1_000_000))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://bench"
        ) as client,
    ):
        cached_path = bars_path(case)

        async def get(path: str, into: list[float], expect: str) -> bytes:
            started = time.perf_counter()
            response = await client.get(path)
            body = response.content
            into.append(time.perf_counter() - started)
            assert response.status_code == 200, body[:500]
            assert response.headers["x-cache"] == expect, (path, response.headers["x-cache"])
            return body

        async def uncached() -> bytes:
            path = bars_path(case, end=case.last_ts + next(keys))
            return await get(path, timings.uncached, "miss")

        async def cached() -> bytes:
            return await get(cached_path, timings.cached, "hit")

        check_body(await uncached(), case)  # warm-up
        check_body(await get(cached_path, [], "miss"), case)  # fills the cached key
        check_body(await cached(), case)
        for read, reference in references:
            assert await read() == case.count
            reference.clear()
        timings.uncached.clear()
        timings.cached.clear()
        for attempt in range(repeats):
            order: list[Callable[[], Awaitable[Any]]] = [uncached, cached]
            order.extend(read for read, _ in references)
            if attempt % 2:
                order.reverse()
            for step in order:
                gc.collect()
                await step()
    return timings


def timed_read(
    read: Callable[[], Awaitable[list[Any]]], into: list[float]
) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        started = time.perf_counter()
        rows = await read()
        into.append(time.perf_counter() - started)
        return len(rows)

    return run


def timed_sync_read(
    read: Callable[[], list[Any]], into: list[float]
) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        started = time.perf_counter()
        rows = read()
        into.append(time.perf_counter() - started)
        return len(rows)

    return run


async def serve_sqlite(
    case: ServeCase, path: Path, repeats: int
) -> tuple[Timings, Timings, Timings]:
    """GET /bars uncached vs aiosqlite fetchall (the app's driver) and vs stdlib sqlite3;
    GET /bars cached vs aiosqlite fetchall."""
    aio_times: list[float] = []
    std_times: list[float] = []
    params = (case.instrument_id, TIMEFRAME.value)
    async with aiosqlite.connect(path) as aio:
        for pragma in SQLITE_PRAGMAS:
            await aio.execute(pragma)
        std = sqlite3.connect(path)
        try:
            for pragma in SQLITE_PRAGMAS:
                std.execute(pragma)

            async def aio_read() -> list[Any]:
                async with aio.execute(SQLITE_READ, params) as cursor:
                    return list(await cursor.fetchall())

            def std_read() -> list[Any]:
                return std.execute(SQLITE_READ, params).fetchall()

            references = [
                (timed_read(aio_read, aio_times), aio_times),
                (timed_sync_read(std_read, std_times), std_times),
            ]
            quantdesk = await measure_serve(case, references, repeats)
        finally:
            std.close()
    return (
        Timings(quantdesk.uncached, aio_times),
        Timings(quantdesk.uncached, std_times),
        Timings(quantdesk.cached, aio_times),
    )


async def serve_postgres(case: ServeCase, dsn: str, repeats: int) -> tuple[Timings, Timings]:
    """GET /bars uncached, then cached, vs asyncpg fetch (the app's driver)."""
    times: list[float] = []
    connection = await asyncpg.connect(dsn)
    try:

        async def read() -> list[Any]:
            return await connection.fetch(PG_READ, case.instrument_id, TIMEFRAME.value)

        quantdesk = await measure_serve(case, [(timed_read(read, times), times)], repeats)
    finally:
        await connection.close()
    return Timings(quantdesk.uncached, times), Timings(quantdesk.cached, times)


def serve_case(url: str, data: Sequence[Series]) -> ServeCase:
    series = next(s for s in data if s.symbol == SERVE_SYMBOL)
    return ServeCase(
        url=url,
        symbol=SERVE_SYMBOL,
        instrument_id=expected_ids()[SERVE_SYMBOL],
        first_ts=int(series.ts[0]),
        last_ts=int(series.ts[-1]),
        count=len(series.ts),
    )
