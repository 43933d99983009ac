"""Real, throwaway PostgreSQL and Redis servers for tests and benchmarks.

Each server lives in its own ``tempfile.mkdtemp()`` directory under the system temp dir
(data, unix socket, logs), listens on ``127.0.0.1`` only, on a free TCP port picked by
binding a socket to port 0 (never 5432 or 6379, so a system-wide server is never touched).
Several servers can run at once in one process; nothing is shared between them.

PostgreSQL
    ``running_postgres()`` is a context manager that runs ``initdb`` (trust auth, UTF8, C
    locale), starts ``postgres`` with ``fsync=off``, ``synchronous_commit=off`` and
    ``full_page_writes=off`` (the data is disposable), waits until it accepts connections
    and yields a :class:`PostgresServer`. On exit it runs ``pg_ctl stop -m immediate`` and
    deletes the temp dir, also when the body raised. Binaries are looked up as ``initdb`` on
    ``PATH`` (symlinks resolved), then in ``/usr/lib/postgresql/*/bin``, newest version first.
    When running as root, PostgreSQL refuses to start, so ``initdb``/``postgres``/``pg_ctl``
    run as the ``postgres`` system user via ``runuser -u postgres --`` and the temp dir is
    chowned to that user. Logs: ``<tmp>/initdb.log`` and ``<tmp>/postgres.log``.

    ``PostgresServer.url(db)`` gives a SQLAlchemy URL (``postgresql+asyncpg://...``;
    ``driver=""`` gives a plain ``postgresql://`` DSN usable by asyncpg directly).
    ``create_database``/``drop_database`` are synchronous; they talk to the server with
    asyncpg on a private event loop in a worker thread, so they work from sync fixtures and
    even from a thread that is already running an event loop.

Redis
    ``running_redis()`` is a context manager yielding a :class:`RedisProcess`, not just an
    address, because some tests need Redis to go away and come back::

        with running_redis() as redis_proc:
            url = redis_proc.server.url          # redis://127.0.0.1:PORT/0 (or redis_proc.url)
            redis_proc.stop()                    # port now refuses connections
            redis_proc.start()                   # same port, empty dataset
            assert redis_proc.is_running

    Redis runs in the foreground (``subprocess.Popen``) with ``--save '' --appendonly no``;
    nothing survives a restart. Log: ``<tmp>/redis.log`` (appended across restarts).

Failures
    A missing binary, or a server that does not accept connections within ~30 s, raises
    :class:`ServerUnavailable`; the message names the binary and where it was looked for, or
    includes the tail of the server's log. Tests should skip on it, except on CI where
    :func:`server_required` is true and they must fail instead.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import asyncpg

__all__ = [
    "PostgresServer",
    "RedisProcess",
    "RedisServer",
    "ServerUnavailable",
    "find_postgres_bin_dir",
    "find_redis_server",
    "running_postgres",
    "running_redis",
    "server_required",
]

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
_RESERVED_PORTS = frozenset({5432, 6379})
_PG_OS_USER = "postgres"
_PG_SUPERUSER = "postgres"
_PG_BINARIES = ("initdb", "pg_ctl", "postgres")
_PG_GLOB_ROOT = Path("/usr/lib/postgresql")
_REDIS_FALLBACK_DIRS = (Path("/usr/bin"), Path("/usr/local/bin"), Path("/usr/sbin"))
_START_ATTEMPTS = 3  # a freshly picked port can be taken by someone else before we bind it

_T = TypeVar("_T")


class ServerUnavailable(RuntimeError):
    """A server binary is missing or the server did not start (see the message)."""


def server_required() -> bool:
    """True on CI (``CI`` is ``true``/``1``): an unavailable server must fail tests, not skip."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


# --------------------------------------------------------------------------- helpers


def _free_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port not in _RESERVED_PORTS:
            return port


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log at {path}: {exc}>"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else f"<{path} is empty>"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>/bin``: numeric parts of ``<version>``."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def _run_in_fresh_loop(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``factory()`` on a new event loop in a worker thread and return its result."""

    async def main() -> _T:
        return await factory()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="servers-sql") as pool:
        return pool.submit(asyncio.run, main()).result()


def _terminate_group(proc: subprocess.Popen[bytes], sig: int, timeout: float) -> bool:
    """Send ``sig`` to the process group of ``proc``; True when ``proc`` exited in time."""
    if proc.poll() is not None:
        return True
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Make sure ``proc`` and everything in its process group is gone."""
    if not _terminate_group(proc, signal.SIGTERM, STOP_TIMEOUT):
        _terminate_group(proc, signal.SIGKILL, STOP_TIMEOUT)
    # Stragglers left in the group after the leader exited (e.g. postgres backends).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


# Anything still running at interpreter exit (e.g. a fixture generator never finalised).
_LIVE: set[_Closeable] = set()
_LIVE_LOCK = threading.Lock()


class _Closeable:
    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _register(self) -> None:
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _unregister(self) -> None:
        with _LIVE_LOCK:
            _LIVE.discard(self)


@atexit.register
def _close_leftovers() -> None:
    with _LIVE_LOCK:
        leftovers = list(_LIVE)
    for item in leftovers:
        with contextlib.suppress(Exception):
            item.close()


# --------------------------------------------------------------------------- PostgreSQL


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
    def __init__(self) -> None:
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

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self._unregister()


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
def running_postgres() -> Iterator[PostgresServer]:
    """Start a throwaway PostgreSQL server, yield its address, then stop it and delete it."""
    instance = _PostgresInstance()
    try:
        instance.initdb()
        instance.start()
        yield instance.server
    finally:
        instance.close()


# --------------------------------------------------------------------------- Redis


@dataclass(frozen=True)
class RedisServer:
    """Address of a throwaway Redis server."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://{self.host}:{self.port}/0"


def find_redis_server() -> Path:
    """Path of ``redis-server`` (PATH, then /usr/bin, /usr/local/bin, /usr/sbin)."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    for directory in _REDIS_FALLBACK_DIRS:
        if _is_executable(directory / "redis-server"):
            return directory / "redis-server"
    raise ServerUnavailable(
        f"redis-server not found; looked on PATH={os.environ.get('PATH', '')!r} and in "
        f"{', '.join(str(d) for d in _REDIS_FALLBACK_DIRS)}"
    )


def _redis_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess(_Closeable):
    """A Redis server process on a fixed port that can be stopped and started again.

    Obtain one from :func:`running_redis`. ``server``/``url`` stay valid across restarts
    (same host and port); the dataset is empty after every :meth:`start`.
    """

    def __init__(self) -> None:
        self.binary = find_redis_server()
        self.tmp = Path(tempfile.mkdtemp(prefix="quantdesk-redis-"))
        self._register()
        self.log_path = self.tmp / "redis.log"
        self.server = RedisServer(host=HOST, port=_free_port())
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Same as ``self.server.url``."""
        return self.server.url

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start Redis on ``server.port`` and wait for PING; no-op when already running."""
        if self.is_running:
            return
        self._reap()
        port = self.server.port
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                [
                    str(self.binary),
                    "--bind",
                    HOST,
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self.tmp),
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise ServerUnavailable(
                    f"{self.binary} exited with code {code} during startup on port {port}; "
                    f"log {self.log_path}:\n{_log_tail(self.log_path)}"
                )
            if _redis_ping(HOST, port):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServerUnavailable(
                    f"{self.binary} did not answer PING on {HOST}:{port} within "
                    f"{STARTUP_TIMEOUT:.0f}s; log {self.log_path}:\n{_log_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop Redis (SIGTERM, SIGKILL after a timeout); the port then refuses connections."""
        self._reap()

    def _reap(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _reap(proc)

    def close(self) -> None:
        """Stop Redis and delete its temp dir."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self._unregister()


@contextlib.contextmanager
def running_redis() -> Iterator[RedisProcess]:
    """Start a throwaway Redis server, yield its :class:`RedisProcess`, then stop it.

    A port already taken when Redis first starts is retried with a new free port.
    """
    attempt = 0
    while True:
        attempt += 1
        proc = RedisProcess()
        try:
            proc.start()
        except ServerUnavailable:
            log_tail = _log_tail(proc.log_path)
            proc.close()
            if attempt < _START_ATTEMPTS and "already in use" in log_tail:
                continue
            raise
        except BaseException:
            proc.close()
            raise
        break
    try:
        yield proc
    finally:
        proc.close()
