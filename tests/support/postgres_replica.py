"""A throwaway PostgreSQL primary with a streaming-replication standby (``running_replica_pair()``).

The primary is an ordinary ``running_postgres()`` server started with ``wal_level=replica``
and WAL senders; :func:`prepare_primary` adds a ``replicator`` role (``REPLICATION LOGIN``)
and a ``host replication replicator 127.0.0.1/32 trust`` line to its ``pg_hba.conf``.
:func:`running_standby` copies the primary with ``pg_basebackup -R -X stream`` (which writes
``standby.signal`` and ``primary_conninfo``) into its own temp dir and starts it, read-only
(``hot_standby``), on another free port; it is stopped and deleted on exit like the primary.

:func:`wait_for_replay` waits until the standby has replayed the primary's current WAL
position, so what was committed on the primary is visible on the standby;
:func:`pause_replay` / :func:`resume_replay` hold replay back, which lets a test tell
which server answered a query.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg

from tests.support.common import STARTUP_TIMEOUT, ServerUnavailable, _log_tail
from tests.support.postgres_server import (
    PostgresServer,
    _PostgresInstance,
    _run_in_fresh_loop,
    running_postgres,
)

REPLICATION_USER = "replicator"
# synchronous_commit on: a commit's WAL is flushed, so sent to the standby, when it returns
# (the throwaway servers otherwise run with it off, leaving it to the WAL writer).
PRIMARY_SETTINGS = {"wal_level": "replica", "max_wal_senders": "5", "synchronous_commit": "on"}
STANDBY_SETTINGS = {"hot_standby": "on"}


@dataclass(frozen=True)
class ReplicaPair:
    primary: PostgresServer
    standby: PostgresServer


def _fetchval(server: PostgresServer, sql: str, database: str = "postgres") -> object:
    async def run() -> object:
        conn = await asyncpg.connect(server.url(database, driver=""), timeout=STARTUP_TIMEOUT)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    return _run_in_fresh_loop(run)


def prepare_primary(primary: PostgresServer) -> None:
    """The replication role and its pg_hba.conf entry (the configuration reloaded)."""
    with (primary.data_dir / "pg_hba.conf").open("a") as hba:
        hba.write(f"\nhost replication {REPLICATION_USER} 127.0.0.1/32 trust\n")
    _fetchval(
        primary,
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{REPLICATION_USER}')"
        f" THEN CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN; END IF; END $$",
    )
    _fetchval(primary, "SELECT pg_reload_conf()")


class _StandbyInstance(_PostgresInstance):
    def __init__(self, primary: PostgresServer) -> None:
        super().__init__(STANDBY_SETTINGS)
        self.primary = primary

    def basebackup(self) -> None:
        if self.os_user is not None:
            os.chown(self.tmp, self.os_user.pw_uid, self.os_user.pw_gid)
        self.tmp.chmod(0o700)
        log = self.tmp / "basebackup.log"
        with log.open("wb") as out:
            result = subprocess.run(
                self._cmd(
                    "pg_basebackup",
                    *("-h", self.primary.host, "-p", str(self.primary.port)),
                    *("-U", REPLICATION_USER, "-D", str(self.data_dir)),
                    *("-R", "-X", "stream", "-c", "fast", "--no-sync"),
                ),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
                check=False,
                timeout=120,
            )
        if result.returncode != 0:
            raise ServerUnavailable(
                f"{self.bin_dir / 'pg_basebackup'} failed (exit {result.returncode}); "
                f"log {log}:\n{_log_tail(log)}"
            )


@contextlib.contextmanager
def running_standby(primary: PostgresServer) -> Iterator[PostgresServer]:
    """A hot standby streaming from `primary` (prepared by :func:`prepare_primary`)."""
    instance = _StandbyInstance(primary)
    try:
        instance.basebackup()
        instance.start()
        yield instance.server
    finally:
        instance.close()


@contextlib.contextmanager
def running_replica_pair() -> Iterator[ReplicaPair]:
    """A replication primary and its standby; both stopped and deleted on exit."""
    with running_postgres(PRIMARY_SETTINGS) as primary:
        prepare_primary(primary)
        with running_standby(primary) as standby:
            yield ReplicaPair(primary=primary, standby=standby)


def _lsn(text: object) -> int:
    high, _, low = str(text).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def wait_for_replay(pair: ReplicaPair, timeout: float = STARTUP_TIMEOUT) -> None:
    """Wait until the standby has replayed everything the primary had written on call."""
    target = _lsn(_fetchval(pair.primary, "SELECT pg_current_wal_insert_lsn()::text"))
    deadline = time.monotonic() + timeout
    while True:
        replayed = _lsn(_fetchval(pair.standby, "SELECT pg_last_wal_replay_lsn()::text"))
        if replayed >= target:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"standby replayed {replayed:X}, primary at {target:X}")
        time.sleep(0.05)


def pause_replay(standby: PostgresServer) -> None:
    _fetchval(standby, "SELECT pg_wal_replay_pause()")


def resume_replay(standby: PostgresServer) -> None:
    _fetchval(standby, "SELECT pg_wal_replay_resume()")
