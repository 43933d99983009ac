"""Pieces shared by the throwaway test servers in tests/support (PostgreSQL and Redis).

Both servers need the same things, so they live here once: the :class:`ServerUnavailable`
error (a missing binary, or a server that does not accept connections within ~30 s; the message
names the binary and where it was looked for, or includes the tail of the server's log) and
:func:`server_required`, which says whether tests must fail on it (CI) instead of skipping; free
TCP ports on ``127.0.0.1`` picked by binding to port 0 (never 5432 or 6379, so a system-wide
server is never touched); log tails for error messages; stopping a server's whole process group;
and an ``atexit`` safety net that closes any server still running when the interpreter exits.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
_RESERVED_PORTS = frozenset({5432, 6379})
_START_ATTEMPTS = 3  # a freshly picked port can be taken by someone else before we bind it


class ServerUnavailable(RuntimeError):
    """A server binary is missing or the server did not start (see the message)."""


def server_required() -> bool:
    """True on CI (``CI`` is ``true``/``1``): an unavailable server must fail tests, not skip."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


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
    """A throwaway server: `stop()` it, then its temp dir goes; leftovers close at exit."""

    tmp: Path

    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and delete its temp dir."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self._unregister()

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
