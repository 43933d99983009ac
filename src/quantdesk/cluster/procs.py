"""Starting and stopping the cluster's processes: each in its own session (process group),
output to its log, pid file written at once; stopping is SIGTERM (SIGINT for PostgreSQL, its
fast shutdown) to the group, then SIGKILL after a bound."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import psutil

from quantdesk.cluster.state import pid_files, write_pid_file

STOP_TIMEOUT = 10.0


class Launcher:
    """Starts processes in order, numbering their pid files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.logs = directory / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.order = len(pid_files(directory))

    def spawn(
        self, name: str, argv: list[str], env: Mapping[str, str], cwd: Path | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.order += 1
        started = psutil.Process(proc.pid).create_time()
        write_pid_file(self.directory, self.order, name, proc.pid, started)
        return proc, log


def _our_process(pid_file: Path) -> psutil.Process | None:
    """The process the pid file names, if it is still that process (same start time)."""
    try:
        pid_text, started = pid_file.read_text().split()
        process = psutil.Process(int(pid_text))
        if abs(process.create_time() - float(started)) > 0.01:
            return None
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process
    except (ValueError, OSError, psutil.Error):
        return None


def alive(pid_file: Path) -> bool:
    return _our_process(pid_file) is not None


def stop(pid_file: Path, timeout: float = STOP_TIMEOUT) -> str:
    """Stop the process group of the pid file's process; "stopped", "killed" or "gone"."""
    process = _our_process(pid_file)
    outcome = "gone"
    if process is not None:
        first = signal.SIGINT if "-postgres" in pid_file.name else signal.SIGTERM
        group = _group_members(process)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, first)
        _, still = psutil.wait_procs(group, timeout=timeout)
        outcome = "stopped"
        if still:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            for leftover in still:
                with contextlib.suppress(psutil.Error):
                    leftover.kill()
            psutil.wait_procs(still, timeout=5)
            outcome = "killed"
    pid_file.unlink(missing_ok=True)
    return outcome


def _group_members(process: psutil.Process) -> list[psutil.Process]:
    members = [process]
    with contextlib.suppress(psutil.Error):
        members += process.children(recursive=True)
    return members


def wait_until(check: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> None:
    """Call `check()` until it is true; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready within {timeout:.0f}s")
        time.sleep(poll)


def any_alive(directory: Path) -> bool:
    return any(alive(pid_file) for pid_file in pid_files(directory))
