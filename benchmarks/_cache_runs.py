"""The cache benchmark's servers and its single-flight run.

`quantdesk` makes a uvicorn server of the real app on its own copy of the database
`benchmarks/_access_db.py` prepared, its quotes from the fake Polygon
(`benchmarks/_fake_polygon.py`); `check_quote` checks one quote through it (provider and
X-Cache); `stampede` sends N requests for one cold key at once (`benchmarks/_burst.py`) and
reads how many provider calls they caused.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._access_db import DATABASE_FILE, Prepared
from benchmarks._burst import Burst, burst
from benchmarks._fake_polygon import FakeProvider
from benchmarks._uvicorn import Server
from benchmarks.loadgen import fetch_sync

SYMBOL = "GOOG"
QUOTE_PATH = f"/api/v1/quotes/{SYMBOL}"
WARM_PATH = f"/api/v1/instruments/{SYMBOL}"  # authenticates without touching the quotes cache


# --------------------------------------------------------------------------- servers


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included) through the backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def quantdesk(
    name: str, tmp: Path, prepared: Prepared, provider: FakeProvider, **extra: str
) -> Server:
    """A uvicorn server of the real app on its own copy of the prepared database, its
    quotes chain the fake Polygon, the provider budget out of the way (no spacing, far more
    concurrency than connections)."""
    database = tmp / name / "quantdesk.db"
    copy_database(tmp / DATABASE_FILE, database)
    env = {
        **prepared.env,
        "QUANTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "QUANTDESK_PROVIDERS_QUOTES": "polygon",
        "QUANTDESK_POLYGON_BASE_URL": provider.url,
        "QUANTDESK_POLYGON_API_KEY": "bench-" + secrets.token_urlsafe(16),
        "QUANTDESK_PROVIDERS_CONCURRENCY": "2048",
        "QUANTDESK_PROVIDERS_RATE_PER_SECOND": "0",
        "QUANTDESK_PROVIDERS_BUDGET_MAX_WAIT_SECONDS": "30",
        # One hour fresh: every request of run A is a hit however long the run takes (the
        # default 30 s would turn late requests into stale answers and refreshes).
        "QUANTDESK_CACHE_TTL_SECONDS": '{"quotes": 3600}',
        **extra,
    }
    return Server(name, "quantdesk.main:app", env, tmp, tmp / f"{name}.log")


def get_json(server: Server, path: str, api_key: str) -> tuple[int, dict[str, str], Any]:
    answer = fetch_sync(server.target(path, {"X-API-Key": api_key}))
    return answer.status, answer.headers, json.loads(answer.body) if answer.body else {}


def check_quote(server: Server, api_key: str, expect_cache: str) -> int:
    """One quote through `server`: 200 from polygon with the expected X-Cache; body size."""
    status, headers, body = get_json(server, QUOTE_PATH, api_key)
    if status != 200:
        raise RuntimeError(f"{server.name} answered {status}: {body}")
    provider = body["meta"]["provider"]
    if provider != "polygon" or headers.get("x-cache") != expect_cache:
        raise RuntimeError(
            f"{server.name}: provider {provider!r}, X-Cache {headers.get('x-cache')!r} "
            f"(expected polygon, {expect_cache})"
        )
    return len(json.dumps(body))


# --------------------------------------------------------------------------- single-flight


@dataclass
class Stampede:
    burst: Burst
    provider_calls: int


def stampede(server: Server, provider: FakeProvider, api_key: str, count: int) -> Stampede:
    # Authenticate once first (the API key's lookup is cached a few seconds), so the 1,000
    # requests meet a warm key and a cold quote.
    status, _, body = get_json(server, WARM_PATH, api_key)
    if status != 200:
        raise RuntimeError(f"{server.name} answered {status} to {WARM_PATH}: {body}")
    before = provider.count()
    if before:
        raise RuntimeError(f"the fake provider was called {before} times before the stampede")
    sent = burst(server.target(QUOTE_PATH, {"X-API-Key": api_key}), count, header="X-Cache")
    return Stampede(sent, provider.count() - before)
