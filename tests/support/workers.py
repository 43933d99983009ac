"""`quantdesk` commands as real processes (Celery workers), each in its own process group and
always stopped, with its output in a log file for failure messages."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil

QUANTDESK = [sys.executable, "-m", "quantdesk.cli"]
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def quantdesk_process(
    args: list[str], env: dict[str, str], log: Path, *, term_wait: float = 3.0
) -> Iterator[subprocess.Popen[bytes]]:
    """A quantdesk command in its own process group, always stopped (and its children):
    SIGTERM, `term_wait` seconds to finish, then SIGKILL."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*QUANTDESK, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        for sig, wait in ((signal.SIGTERM, term_wait), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=wait)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # prefork children left behind


def kill_pool_processes(proc: subprocess.Popen[bytes]) -> list[int]:
    """SIGKILL the pool processes of a Celery worker (the ones running its tasks), as the
    OOM killer would; the worker's main process stays. The pids killed."""
    children = psutil.Process(proc.pid).children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.send_signal(signal.SIGKILL)
    return [child.pid for child in children]


def log_tails(logs: list[Path], chars: int = 3000) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text()[-chars:]}" for log in logs if log.exists())
