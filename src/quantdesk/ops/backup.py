"""`quantdesk db backup` / `restore`: a consistent copy of the database in one file, and back.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`), page by page while the app
may keep writing; the copy is a plain database file (rollback journal, not WAL). PostgreSQL:
`pg_dump --format=custom` and `pg_restore`, found in `QUANTDESK_POSTGRES_BIN_DIR`, else the
newest `/usr/lib/postgresql/*/bin`, else on PATH; the password goes to them in `PGPASSWORD`,
never on a command line. A backup never overwrites a file (it is written beside it and renamed
into place). A restore refuses a target that holds any table unless `force`: then SQLite's
file is overwritten page by page, and PostgreSQL's `public` schema is dropped and recreated
before `pg_restore` (owners and grants of the dump are not restored: the connecting user owns
everything, as after `quantdesk db upgrade`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import asyncpg
from sqlalchemy.engine import URL, make_url

from quantdesk.config import Settings

Engine = Literal["sqlite", "postgresql"]
PG_GLOB_ROOT = Path("/usr/lib/postgresql")
TIMEOUT_SECONDS = 6 * 3600


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    engine: Engine
    path: Path
    size_bytes: int


@dataclass(frozen=True)
class RestoreResult:
    engine: Engine
    path: Path
    database: str  # the target, without its password
    replaced: bool  # the target held tables (restored with force)


def engine_of(settings: Settings) -> Engine:
    backend = make_url(settings.database_url).get_backend_name()
    if backend == "sqlite":
        return "sqlite"
    if backend == "postgresql":
        return "postgresql"
    raise BackupError(
        f"QUANTDESK_DATABASE_URL: backups support SQLite and PostgreSQL, not {backend}"
    )


def default_backup_path(settings: Settings, now: datetime | None = None) -> Path:
    """`<backups_dir>/quantdesk-<UTC timestamp>.db` (SQLite) or `.dump` (PostgreSQL)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = ".db" if engine_of(settings) == "sqlite" else ".dump"
    return settings.backups_dir / f"quantdesk-{stamp}{suffix}"


def backup(settings: Settings, path: Path | None = None) -> BackupResult:
    engine = engine_of(settings)
    target = path or default_backup_path(settings)
    if target.exists():
        raise BackupError(f"{target} exists: name another file (a backup never overwrites one)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if engine == "sqlite":
            _sqlite_backup(_sqlite_file(settings), partial)
        else:
            _pg_dump(settings, partial)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(engine=engine, path=target, size_bytes=target.stat().st_size)


def restore(settings: Settings, path: Path, *, force: bool = False) -> RestoreResult:
    engine = engine_of(settings)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if engine == "sqlite":
        target = _sqlite_file(settings)
        _check_sqlite_backup(path)
        tables = _sqlite_tables(target)
    else:
        _pg_check_dump(settings, path)
        tables = asyncio.run(_pg_tables(url))
    if tables and not force:
        raise BackupError(
            f"{shown} is not empty ({tables} tables): restoring would replace it; "
            "pass --force to do so"
        )
    if engine == "sqlite":
        _sqlite_restore(path, target)
    else:
        if tables:
            asyncio.run(_pg_reset_schema(url))
        _pg_restore(settings, path)
    return RestoreResult(engine=engine, path=path, database=shown, replaced=bool(tables))


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_file(settings: Settings) -> Path:
    found = settings.sqlite_path()
    if found is None:
        raise BackupError("QUANTDESK_DATABASE_URL: an in-memory SQLite database has no backup")
    return found


def _sqlite_backup(source: Path, destination: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no such database file")
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(destination)) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file


def _check_sqlite_backup(path: Path) -> None:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a SQLite database: {error}") from error
    if result is None or result[0] != "ok":
        raise BackupError(f"{path} is damaged: {result}")


def _sqlite_tables(path: Path) -> int:
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:
        row = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()
    return int(row[0])


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_tool(settings: Settings, name: str) -> Path:
    """`pg_dump` / `pg_restore`: in QUANTDESK_POSTGRES_BIN_DIR, else the newest
    /usr/lib/postgresql/*/bin (a newer client reads older servers), else on PATH."""
    if settings.postgres_bin_dir is not None:
        candidate = settings.postgres_bin_dir / name
        if not os.access(candidate, os.X_OK):
            raise BackupError(f"QUANTDESK_POSTGRES_BIN_DIR: no executable {candidate}")
        return candidate

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))

    installed = sorted(PG_GLOB_ROOT.glob(f"*/bin/{name}"), key=version, reverse=True)
    for candidate in installed:
        if os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupError(
            f"{name} not found (looked in {PG_GLOB_ROOT}/*/bin and on PATH): install the "
            "PostgreSQL client or set QUANTDESK_POSTGRES_BIN_DIR"
        )
    return Path(on_path)


def _libpq(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL tools, and their environment (the password)."""
    url = make_url(settings.database_url)
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ, "PGDATABASE": url.database or "", "PGCONNECT_TIMEOUT": "10"}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    return args, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    # The tool is a PostgreSQL client found above; the arguments come from the settings.
    result = subprocess.run(  # noqa: S603
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT_SECONDS,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BackupError(f"{what} failed (exit {result.returncode}): {detail}")


def _pg_dump(settings: Settings, destination: Path) -> None:
    args, env = _libpq(settings)
    tool = postgres_tool(settings, "pg_dump")
    _run([str(tool), *args, "--format=custom", "--file", str(destination)], env, "pg_dump")


def _pg_check_dump(settings: Settings, path: Path) -> None:
    _, env = _libpq(settings)
    tool = postgres_tool(settings, "pg_restore")
    _run([str(tool), "--list", str(path)], env, f"reading {path} (pg_restore --list)")


def _pg_restore(settings: Settings, path: Path) -> None:
    args, env = _libpq(settings)
    tool = postgres_tool(settings, "pg_restore")
    flags = ["--no-owner", "--no-acl", "--exit-on-error", "--single-transaction"]
    _run([str(tool), *args, "--dbname", env["PGDATABASE"], *flags, str(path)], env, "pg_restore")


async def _pg_connect(url: URL) -> asyncpg.Connection:
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(dsn, timeout=10)


async def _pg_tables(url: URL) -> int:
    connection = await _pg_connect(url)
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
    finally:
        await connection.close()
    return int(count)


async def _pg_reset_schema(url: URL) -> None:
    connection = await _pg_connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
