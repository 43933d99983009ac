"""Database settings beyond `database_url` (read replica, backups), mixed into `Settings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class DatabaseSettings(BaseModel):
    # A PostgreSQL streaming replica of database_url: the hot public reads (quotes without a
    # provider chain, bars, instruments, indicators; docs/operations.md) query it, everything
    # else the primary. Unset or empty: every query goes to database_url.
    database_read_url: str | None = None
    # `quantdesk db backup` writes here when no path is given.
    backups_dir: Path = Path("var/backups")
    # Where pg_dump / pg_restore are (PostgreSQL backups); unset: the newest
    # /usr/lib/postgresql/*/bin, then PATH.
    postgres_bin_dir: Path | None = None
