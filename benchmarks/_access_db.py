"""The database the access and cache benchmarks serve quotes from.

`prepare` migrates a temporary SQLite database, loads the demo data, registers one premium
user with one API key, and returns the database URL, the key and the environment a
`uvicorn quantdesk.main:app` server needs to run on it (that user's tier raised to the limit
asked for, so the load is counted by the rate limiter but never refused). `prepared_run` wraps
a whole benchmark run around it: SIGTERM handling, the machine line, the start time and the
temporary directory the database lives in.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from benchmarks._processes import exit_on_signal
from benchmarks._uvicorn import base_env, machine
from quantdesk import migrate
from quantdesk.access.principal import Principal
from quantdesk.access.scopes import ROLE_SCOPES, Role
from quantdesk.auth.api_keys import api_key_service
from quantdesk.auth.schemas import ApiKeyCreate
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.marketdata.demo import load_demo

ROLE = Role.PREMIUM
# The premium tier raised so no request of the run is refused, while every request is still
# counted by the limiter. At the default 1000/minute the first second of load would be 429s.
TIER_LIMIT = "1000000/minute"
DATABASE_FILE = "access.db"  # in the directory given to prepare()


@dataclass(frozen=True)
class Prepared:
    url: str
    env: dict[str, str]
    api_key: str


def prepare(tmp: Path, tier_limit: str) -> Prepared:
    """A migrated SQLite database with the demo data, a premium user and an API key."""
    url = f"sqlite+aiosqlite:///{tmp / DATABASE_FILE}"
    secret_key = secrets.token_urlsafe(48)
    env = {
        **base_env(),
        "QUANTDESK_ENVIRONMENT": "development",
        "QUANTDESK_DATABASE_URL": url,
        "QUANTDESK_SECRET_KEY": secret_key,
        "QUANTDESK_LOG_LEVEL": "WARNING",
        "QUANTDESK_MAIL_DIR": str(tmp / "mail"),
        f"QUANTDESK_RATE_LIMIT_{ROLE.value.upper()}": tier_limit,
    }
    migrate.upgrade(url)
    # The server derives the key pepper from the same secret_key, so the hash matches.
    settings = Settings(_env_file=None, database_url=url, secret_key=SecretStr(secret_key))
    return Prepared(url, env, asyncio.run(_load(settings)))


async def _load(settings: Settings) -> str:
    db = Database(settings)
    try:
        async with db.session() as session:
            await load_demo(session)
        async with db.session() as session:
            user = await auth_service.register(
                session,
                email="bench-access@example.com",
                password="Qd-" + secrets.token_urlsafe(24),
                role=ROLE,
                client=ClientInfo("127.0.0.1", "bench_access"),
            )
            principal = Principal(
                user_id=user.id, role=ROLE, scopes=ROLE_SCOPES[ROLE], client_ip="127.0.0.1"
            )
            _, secret = await api_key_service.create(
                session, settings, principal, ApiKeyCreate(name="bench_access")
            )
        return secret
    finally:
        await db.dispose()


@dataclass(frozen=True)
class PreparedRun:
    tmp: Path  # removed when the run ends
    prepared: Prepared
    info: str  # the machine, as `machine()` describes it before the load
    begun: float  # time.perf_counter() at the start

    def total(self) -> str:
        return f"\n{self.info}\nTotal {time.perf_counter() - self.begun:.0f} s"


@contextmanager
def prepared_run(name: str, tier_limit: str) -> Iterator[PreparedRun]:
    """A benchmark run on the prepared database, in a temporary directory removed on the way
    out (after the servers the caller started in it have stopped)."""
    signal.signal(signal.SIGTERM, exit_on_signal)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter
    info = machine()
    begun = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f"quantdesk-bench-{name}-"))
    try:
        print("Preparing the database (demo data, premium user, API key) ...", flush=True)
        yield PreparedRun(tmp, prepare(tmp, tier_limit), info, begun)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
