"""Real, throwaway Redis servers for tests (``running_redis()`` yields a :class:`RedisProcess`).

It yields a process handle, not just an address, because some tests need Redis to go away and
come back: ``stop()`` makes the port refuse connections, ``start()`` brings Redis back on the same
port with an empty dataset. Redis runs in the foreground (``subprocess.Popen``) on ``127.0.0.1``
and a free port, in its own ``tempfile.mkdtemp()`` directory, with ``--save '' --appendonly no``
so nothing survives a restart; the log is ``<tmp>/redis.log`` (appended across restarts).
``redis-server`` is looked up on ``PATH``, then in /usr/bin, /usr/local/bin and /usr/sbin.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.common import (
    _START_ATTEMPTS,
    HOST,
    STARTUP_TIMEOUT,
    ServerUnavailable,
    _Closeable,
    _free_port,
    _is_executable,
    _log_tail,
    _reap,
)

_REDIS_FALLBACK_DIRS = (Path("/usr/bin"), Path("/usr/local/bin"), Path("/usr/sbin"))


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
