"""`quantdesk cluster down` and `status`: driven by the pid files, so they work after a crash."""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx

from quantdesk.cluster import procs
from quantdesk.cluster.state import HOST, STATE_FILE, ClusterState, pid_files


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    kind: str
    pid: int
    port: int | None
    running: bool
    ready: bool | None  # API replicas and haproxy: /health/ready answered 200
    log: str


def down(directory: Path) -> list[tuple[str, str]]:
    """Stop every process the pid files name (the last started first) and delete the
    PostgreSQL data; (name, "stopped" | "killed" | "gone") per process."""
    outcomes = []
    for pid_file in pid_files(directory):
        name = pid_file.stem.split("-", 1)[1]
        outcomes.append((name, procs.stop(pid_file)))
    state_path = directory / STATE_FILE
    if state_path.exists():
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            shutil.rmtree(ClusterState.load(directory).postgres_data, ignore_errors=True)
        state_path.unlink()
    return outcomes


def status(directory: Path) -> list[ServiceStatus]:
    """Each recorded process: running (same pid and start time), and ready for HTTP ones."""
    state = ClusterState.load(directory)
    files = {path.stem.split("-", 1)[1]: path for path in pid_files(directory)}
    rows = []
    for service in state.services:
        pid_file = files.get(service.name)
        running = pid_file is not None and procs.alive(pid_file)
        ready = None
        if service.kind in {"api", "haproxy"} and service.port is not None:
            ready = running and _ready(f"http://{HOST}:{service.port}")
        rows.append(
            ServiceStatus(
                service.name, service.kind, service.pid, service.port, running, ready, service.log
            )
        )
    return rows


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
