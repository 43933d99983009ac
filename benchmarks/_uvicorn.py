"""uvicorn server subprocesses for the benchmarks that load a real server over HTTP.

`Server` starts `uvicorn APP` on 127.0.0.1 with one worker on a free port, waits for a path
to answer 200 and stops it on the way out (`running`); `cpu_seconds` reads a process's CPU
time from /proc, `base_env` is this environment without QUANTDESK_* settings, and `machine`
describes the machine and the server stack for the report.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._docs import package_version, platform_parts
from benchmarks._processes import stop_process
from benchmarks.loadgen import LoadError, Target, fetch_sync


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # After the ")" closing the command name: field 14 (utime) is index 11, 15 (stime) 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A uvicorn subprocess: `uvicorn APP --host 127.0.0.1 --port P --workers 1 ...`."""

    name: str
    app: str
    env: dict[str, str]
    cwd: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def target(self, path: str, headers: Mapping[str, str] | None = None) -> Target:
        return Target("127.0.0.1", self.port, path, tuple((headers or {}).items()))

    def start(self, ready_path: str, timeout: float = 60.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        probe = self.target(ready_path)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                if fetch_sync(probe, timeout=2.0).status == 200:
                    return
            except (OSError, LoadError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        stop_process(self.process)


@contextmanager
def running(server: Server, ready_path: str) -> Iterator[Server]:
    try:
        server.start(ready_path)
        yield server
    finally:
        server.stop()


def base_env() -> dict[str, str]:
    """This environment without any QUANTDESK_* setting (the runs set their own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}


def machine() -> str:
    """The machine, Python, SQLite and the server stack's package versions, and the load
    average before the run."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    parts = [
        *platform_parts(),
        f"SQLite {sqlite3.sqlite_version}",
        *(
            f"{name} {package_version(name)}"
            for name in ("uvicorn", "uvloop", "httptools", "fastapi", "starlette", "limits")
        ),
        f"load average before the run {load}",
    ]
    return ", ".join(parts)
