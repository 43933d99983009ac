"""Faults and restarts of the cluster's processes (docs/scale-out.md, "Faults"): signal a
service's process group from its pid file, and start PostgreSQL or Redis again on the same
port and data, or a Celery worker under the same name, recorded like the first start (a new
pid file, `cluster.json` updated)."""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import replace
from pathlib import Path

import psutil

from quantdesk.cluster import procs
from quantdesk.cluster.launch import (
    ClusterError,
    base_env,
    spawn_postgres,
    spawn_redis,
    spawn_worker,
)
from quantdesk.cluster.state import ClusterState, pid_files

RESTARTABLE_KINDS = frozenset({"postgres", "redis", "worker"})


def _service_name(pid_file: Path) -> str:
    return pid_file.stem.split("-", 1)[1]


def pid_file_of(directory: Path, name: str) -> Path:
    for path in pid_files(directory):
        if _service_name(path) == name:
            return path
    raise LookupError(f"no pid file for {name} in {directory}")


def signal_service(directory: Path, name: str, signum: signal.Signals) -> int:
    """Send `signum` to the service's whole process group (SIGKILL: a crash, backends and
    all; SIGSTOP/SIGCONT: a freeze); the group leader's pid."""
    path = pid_file_of(directory, name)
    if not procs.alive(path):
        raise ClusterError(f"{name} is not running (pid file {path})")
    pid = int(path.read_text().split()[0])
    os.killpg(pid, signum)
    return pid


def kill_service(directory: Path, name: str, timeout: float = 10.0) -> None:
    """SIGKILL the service's process group and wait until every member is gone."""
    path = pid_file_of(directory, name)
    pid = int(path.read_text().split()[0])
    members: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        leader = psutil.Process(pid)
        members = [leader, *leader.children(recursive=True)]
    signal_service(directory, name, signal.SIGKILL)
    for member in members:  # also one that left the group (runuser's child, under root)
        with contextlib.suppress(psutil.Error):
            member.kill()
    _, alive = psutil.wait_procs(members, timeout=timeout)
    if alive:
        raise ClusterError(f"{name}: {len(alive)} processes still alive after SIGKILL")


def restart_service(directory: Path, name: str) -> ClusterState:
    """Start `name` (postgres, redis or a worker) again once its process is gone; returns
    the updated state. PostgreSQL keeps its data and port (crash recovery runs first); Redis
    comes back empty on its port (the cluster runs it without persistence); a worker comes
    back under its name and takes the tasks its predecessor left unacknowledged once the
    broker's visibility timeout has passed."""
    state = ClusterState.load(directory)
    service = next((s for s in state.services if s.name == name), None)
    if service is None or service.kind not in RESTARTABLE_KINDS:
        raise ValueError(f"only {sorted(RESTARTABLE_KINDS)} services restart; not {name!r}")
    old = pid_file_of(directory, name)
    if procs.alive(old):
        raise ClusterError(f"{name} is still running: kill it first")
    old.unlink()
    launcher = procs.Launcher(directory)
    numbers = [int(path.name.split("-", 1)[0]) for path in pid_files(directory)]
    launcher.order = max(numbers, default=0)  # the new pid file sorts last, as started last
    if service.kind == "worker":
        proc, log = spawn_worker(launcher, base_env(state), name)
    elif service.port is None:
        raise ClusterError(f"{name} has no port recorded")
    elif service.kind == "postgres":
        proc, log = spawn_postgres(launcher, state, service.port)
    else:
        proc, log = spawn_redis(launcher, directory, service.port)
    fresh = replace(service, pid=proc.pid, log=str(log))
    state.services = [fresh if s.name == name else s for s in state.services]
    state.save()
    return state
