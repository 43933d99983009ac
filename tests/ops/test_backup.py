"""`quantdesk db backup` / `restore`: round trips on SQLite (online backup API) and on a real
PostgreSQL server (pg_dump custom format, pg_restore); a restore never replaces a database
holding tables without --force, and a backup never overwrites a file."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner, Result

from quantdesk import migrate
from quantdesk.cli import app as cli
from quantdesk.config import get_settings
from quantdesk.db import Database
from quantdesk.models import Base
from quantdesk.ops.backup import BackupError, backup
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.servers import PostgresServer
from tests.support.settings import make_settings, sqlite_url

FULL_ROWS = ("instruments", "bars", "alembic_version")


def said(result: Result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A source and an empty target database of one engine."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "source.db"), sqlite_url(tmp_path / "restored" / "target.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    for name in ("backup_source", "backup_target"):
        server.create_database(name)
    yield server.url("backup_source"), server.url("backup_target")
    for name in ("backup_source", "backup_target"):
        server.drop_database(name)


@pytest.fixture
def use_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("QUANTDESK_BACKUPS_DIR", str(tmp_path / "backups"))

    def use(url: str) -> None:
        monkeypatch.setenv("QUANTDESK_DATABASE_URL", url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


async def fill(url: str) -> None:
    migrate.upgrade(url)
    db = Database(make_settings(url))
    try:
        for symbol, seed in (("AAA", 1), ("BBB", 2)):
            await create_instrument(db, symbol)
            await load_bars(db, symbol, synthetic_bars(40, seed=seed))
    finally:
        await db.dispose()


async def snapshot(url: str) -> dict[str, Any]:
    """Row counts of every table, and every row of a few."""
    db = Database(make_settings(url))
    try:
        async with db.engine.connect() as connection:
            found: dict[str, Any] = {}
            for table in Base.metadata.sorted_tables:
                count = select(func.count()).select_from(table)
                found[table.name] = await connection.scalar(count)
            for name in FULL_ROWS:
                rows = await connection.execute(text(f"SELECT * FROM {name} ORDER BY 1"))
                found[f"{name} rows"] = [tuple(row) for row in rows]
    finally:
        await db.dispose()
    return found


def test_backup_and_restore_round_trip(urls: tuple[str, str], use_database: Any) -> None:
    """Synchronous, as the CLI is run (its commands start their own event loop)."""
    source, target = urls
    asyncio.run(fill(source))
    before = asyncio.run(snapshot(source))
    assert before["bars"] == 80 and before["instruments"] == 2
    assert before["alembic_version rows"] == [(head,) for head in migrate.head_revisions()]
    runner = CliRunner()

    use_database(source)
    made = runner.invoke(cli, ["db", "backup"])
    assert made.exit_code == 0, made.output
    path = Path(made.output.split()[0])
    suffix = "db" if source.startswith("sqlite") else "dump"
    assert re.fullmatch(rf"quantdesk-\d{{8}}T\d{{6}}Z\.{suffix}", path.name), path
    assert path.parent.name == "backups" and path.stat().st_size > 0

    use_database(target)
    restored = runner.invoke(cli, ["db", "restore", str(path)])
    assert restored.exit_code == 0, restored.output
    assert asyncio.run(snapshot(target)) == before

    # the target now holds tables: replacing it takes --force
    asyncio.run(create_instrument_in(target, "EXTRA"))
    refused = runner.invoke(cli, ["db", "restore", str(path)])
    assert refused.exit_code == 1
    assert "--force" in said(refused) and "not empty" in said(refused)
    assert asyncio.run(snapshot(target))["instruments"] == 3
    forced = runner.invoke(cli, ["db", "restore", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert asyncio.run(snapshot(target)) == before


async def create_instrument_in(url: str, symbol: str) -> None:
    db = Database(make_settings(url))
    try:
        await create_instrument(db, symbol)
    finally:
        await db.dispose()


def test_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path / "quantdesk.db"))
    migrate.upgrade(settings.database_url)
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="never overwrites"):
        backup(settings, existing)
    assert existing.read_bytes() == b"keep me"
    assert list(tmp_path.glob(".*partial")) == []


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path, use_database: Any) -> None:
    use_database(sqlite_url(tmp_path / "target.db"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(cli, ["db", "restore", str(junk)])
    assert result.exit_code == 1
    assert "not a SQLite database" in said(result)
    missing = CliRunner().invoke(cli, ["db", "restore", str(tmp_path / "nope.db")])
    assert missing.exit_code == 1 and "no such backup file" in said(missing)
