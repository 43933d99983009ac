"""Alembic, driven from code: the CLI, `serve` in development, health checks and tests use these.

Revision files are named `YYYY_MM_DD_HHMM-<rev>_<slug>.py` so `ls` shows them in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("quantdesk") / "migrations"))
    cfg.set_main_option("file_template", FILE_TEMPLATE)
    cfg.set_main_option("truncate_slug_length", "40")
    # `%` is ConfigParser interpolation syntax; a password may contain it.
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _outside_event_loop(work: Callable[[], None]) -> None:
    """Alembic's env.py drives the async engine with asyncio.run(), which cannot nest inside a
    running loop; from async code the work moves to a thread (blocking the caller, which is
    fine for the one-off calls that do this: fixtures, start-up)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        work()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(work).result()


def upgrade(database_url: str, revision: str = "head") -> None:
    _outside_event_loop(lambda: command.upgrade(alembic_config(database_url), revision))


def downgrade(database_url: str, revision: str) -> None:
    _outside_event_loop(lambda: command.downgrade(alembic_config(database_url), revision))


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (`alembic check`)."""
    _outside_event_loop(lambda: command.check(alembic_config(database_url)))


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The migrations' head(s); fixed for the life of the process (readiness probes ask often)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())
