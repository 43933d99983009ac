"""Real, throwaway PostgreSQL servers for tests and benchmarks (``running_postgres()``).

Tests run against a real server rather than a mock, and each one is disposable: ``initdb``
(trust auth, UTF8, C locale) into its own ``tempfile.mkdtemp()`` directory (data, unix socket,
``initdb.log``, ``postgres.log``), then ``postgres`` on ``127.0.0.1`` and a free port with
``fsync``, ``synchronous_commit`` and ``full_page_writes`` off (the data is disposable); on exit
``pg_ctl stop -m immediate`` and the directory is deleted, also when the body raised, so several
servers can run at once in one process. Binaries are looked up as ``initdb`` on ``PATH``
(symlinks resolved), then in ``/usr/lib/postgresql/*/bin``, newest first. PostgreSQL refuses to
run as root, so under root the binaries run as the ``postgres`` system user via ``runuser -u
postgres --`` and the temp dir is chowned to it. ``PostgresServer.url(db)`` gives a SQLAlchemy
URL (``driver=""`` gives a plain ``postgresql://`` DSN for asyncpg); ``create_database`` and
``drop_database`` are synchronous and use asyncpg on a private event loop in a worker thread, so
they work from sync fixtures and even from a thread that is already running an event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import asyncpg

from tests.support.common import (
    _START_ATTEMPTS,
    HOST,
    STARTUP_TIMEOUT,
    STOP_TIMEOUT,
    ServerUnavailable,
    _Closeable,
    _free_port,
    _is_executable,
    _log_tail,
    _reap,
)

_PG_OS_USER = "postgres"
_PG_SUPERUSER = "postgres"
_PG_BINARIES = ("initdb", "pg_ctl", "postgres")
_PG_GLOB_ROOT = Path("/usr/lib/postgresql")

_T = TypeVar("_T")


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>/bin``: numeric parts of ``<version>``."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def _run_in_fresh_loop(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``factory()`` on a new event loop in a worker thread and return its result."""

    async def main() -> _T:
        return await factory()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="servers-sql") as pool:
        return pool.submit(asyncio.run, main()).result()


@dataclass(frozen=True)
class PostgresServer:
    """Address of a running throwaway PostgreSQL server (superuser ``user``, trust auth)."""

    host: str
    port: int
    user: str
    data_dir: Path

    def url(self, database: str, driver: str = "asyncpg") -> str:
        """``postgresql+<driver>://user@host:port/database``; ``driver=""`` → ``postgresql://``."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{quote(self.user, safe='')}@{self.host}:{self.port}/{quote(database)}"

    def create_database(self, name: str) -> None:
        """Create an empty database ``name``, dropping an existing one of that name first."""
        ident = _quote_ident(name)

        async def work(conn: asyncpg.Connection) -> None:
            await _drop(conn, name)
            await conn.execute(f"CREATE DATABASE {ident} TEMPLATE template0 ENCODING 'UTF8'")

        self._admin(work)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting any sessions still using it."""

        async def work(conn: asyncpg.Connection) -> None:
            await _drop(conn, name)

        self._admin(work)

    def _admin(self, work: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
        async def run() -> None:
            conn = await asyncpg.connect(self.url("postgres", driver=""), timeout=STARTUP_TIMEOUT)
            try:
                await work(conn)
            finally:
                await conn.close()

        _run_in_fresh_loop(run)


def _quote_ident(name: str) -> str:
    if not name or "\x00" in name:
        raise ValueError(f"invalid database name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


async def _drop(conn: asyncpg.Connection, name: str) -> None:
    ident = _quote_ident(name)
    if conn.get_server_version().major >= 13:
        await conn.execute(f"DROP DATABASE IF EXISTS {ident} WITH (FORCE)")
        return
    await conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = $1 AND pid <> pg_backend_pid()",
        name,
    )
    await conn.execute(f"DROP DATABASE IF EXISTS {ident}")


def find_postgres_bin_dir() -> Path:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres`` (PATH first, then newest
    ``/usr/lib/postgresql/*/bin``); raises :class:`ServerUnavailable` when there is none."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates.extend(
        sorted(
            (p for p in _PG_GLOB_ROOT.glob("*/bin") if p.is_dir()),
            key=_version_key,
            reverse=True,
        )
    )
    for bin_dir in candidates:
        if all(_is_executable(bin_dir / exe) for exe in _PG_BINARIES):
            return bin_dir
    looked = [str(c) for c in dict.fromkeys(candidates)] or ["<nothing found>"]
    raise ServerUnavailable(
        f"PostgreSQL server binaries ({', '.join(_PG_BINARIES)}) not found together; "
        f"looked for initdb on PATH={os.environ.get('PATH', '')!r} and in "
        f"{_PG_GLOB_ROOT}/*/bin (candidates: {', '.join(looked)})"
    )


def _pg_user_prefix() -> tuple[list[str], pwd.struct_passwd | None]:
    """Command prefix that runs PostgreSQL binaries as a non-root user, and that user."""
    if os.geteuid() != 0:
        return [], None
    runuser = shutil.which("runuser") or next(
        (str(p) for p in (Path("/usr/sbin/runuser"), Path("/sbin/runuser")) if _is_executable(p)),
        None,
    )
    if runuser is None:
        raise ServerUnavailable(
            "running as root, PostgreSQL must run as another user, but `runuser` was not "
            f"found on PATH={os.environ.get('PATH', '')!r} or in /usr/sbin, /sbin"
        )
    try:
        pw = pwd.getpwnam(_PG_OS_USER)
    except KeyError:
        raise ServerUnavailable(
            f"running as root, PostgreSQL must run as the {_PG_OS_USER!r} system user, "
            "which does not exist"
        ) from None
    return [runuser, "-u", _PG_OS_USER, "--"], pw


class _PostgresInstance(_Closeable):
    def __init__(self, extra_settings: Mapping[str, str] | None = None) -> None:
        self.extra_settings = dict(extra_settings or {})
        self.bin_dir = find_postgres_bin_dir()
        self.prefix, self.os_user = _pg_user_prefix()
        self.tmp = Path(tempfile.mkdtemp(prefix="quantdesk-pg-"))
        self._register()
        self.data_dir = self.tmp / "data"
        self.log_path = self.tmp / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def initdb(self) -> None:
        if self.os_user is not None:
            os.chown(self.tmp, self.os_user.pw_uid, self.os_user.pw_gid)
        self.tmp.chmod(0o700)
        log = self.tmp / "initdb.log"
        with log.open("wb") as out:
            result = subprocess.run(
                self._cmd(
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "-U",
                    _PG_SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
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
                f"{self.bin_dir / 'initdb'} failed (exit {result.returncode}); "
                f"log {log}:\n{_log_tail(log)}"
            )

    def _cmd(self, exe: str, *args: str) -> list[str]:
        return [*self.prefix, str(self.bin_dir / exe), *args]

    def start(self) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                self._start_once(_free_port())
            except ServerUnavailable:
                if attempt < _START_ATTEMPTS and "already in use" in _log_tail(self.log_path):
                    continue
                raise
            return

    def _start_once(self, port: int) -> None:
        self.port = port
        settings = {
            "listen_addresses": HOST,
            "port": str(port),
            "unix_socket_directories": str(self.tmp),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "logging_collector": "off",
            **self.extra_settings,
        }
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                self._cmd("postgres", "-D", str(self.data_dir), *options),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        server = self.server
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.proc = None
                raise ServerUnavailable(
                    f"{self.bin_dir / 'postgres'} exited with code {code} during startup "
                    f"on port {port}; log {self.log_path}:\n{_log_tail(self.log_path)}"
                )
            if _pg_ready(server):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerUnavailable(
                    f"{self.bin_dir / 'postgres'} did not accept connections on "
                    f"{HOST}:{port} within {STARTUP_TIMEOUT:.0f}s; "
                    f"log {self.log_path}:\n{_log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    @property
    def server(self) -> PostgresServer:
        return PostgresServer(host=HOST, port=self.port, user=_PG_SUPERUSER, data_dir=self.data_dir)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(
                    self._cmd(
                        "pg_ctl",
                        "-D",
                        str(self.data_dir),
                        "stop",
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        str(int(STOP_TIMEOUT)),
                    ),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    cwd=self.tmp,
                    check=False,
                    timeout=STOP_TIMEOUT + 5,
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT)
        _reap(proc)


def _pg_ready(server: PostgresServer) -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(server.url("postgres", driver=""), timeout=2)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()
        return True

    return _run_in_fresh_loop(probe)


@contextlib.contextmanager
def running_postgres(
    extra_settings: Mapping[str, str] | None = None,
) -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server, yield its address, then stop it and delete it.
    `extra_settings` are more `-c name=value` server settings (e.g. for a replication primary)."""
    instance = _PostgresInstance(extra_settings)
    try:
        instance.initdb()
        instance.start()
        yield instance.server
    finally:
        instance.close()
