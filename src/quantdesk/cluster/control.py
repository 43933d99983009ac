"""`quantdesk cluster down` and `status`: driven by the pid files, so they work after a crash."""

from __future__ import annotations

import contextlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from quantdesk.cluster import procs
from quantdesk.cluster.state import HOST, STATE_FILE, ClusterState, pid_files

STORES = frozenset({"postgres", "redis"})


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
    files = pid_files(directory)
    # The clients of the stores first, all at once (each has its own 10 s bound), then
    # Redis and PostgreSQL, so no replica or worker loses its stores while shutting down.
    stores = [path for path in files if path.stem.split("-", 1)[1] in STORES]
    clients = [path for path in files if path not in stores]
    outcomes = []
    for group in (clients, stores):
        with ThreadPoolExecutor(max_workers=max(1, len(group))) as pool:
            stopped = list(pool.map(procs.stop, group))
        outcomes += [
            (path.stem.split("-", 1)[1], out) for path, out in zip(group, stopped, strict=True)
        ]
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
