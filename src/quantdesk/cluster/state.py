"""The cluster's state directory: `cluster.json` (addresses, credentials, services) and one
pid file per process, written the moment it starts (so `down` finds it even if `up` died)."""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
STATE_FILE = "cluster.json"
DEFAULT_DIR = Path("var/cluster")


@dataclass(frozen=True)
class Service:
    """One process of the cluster."""

    name: str  # postgres, redis, api1.., worker1.., beat, haproxy
    kind: str  # postgres | redis | api | worker | beat | haproxy
    pid: int
    port: int | None
    log: str


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str


@dataclass
class ClusterState:
    """What `up` started and how to reach it; `cluster.json` in the state directory."""

    dir: str
    url: str  # haproxy's frontend: the cluster's one address
    stats_port: int
    database_url: str
    redis_url: str
    postgres_data: str
    webhook_receiver_port: int
    demo: Credentials
    admin: Credentials
    analyst: Credentials  # role analyst: bar exports (export:data) in the load test
    replicas: int
    workers: int
    services: list[Service] = field(default_factory=list)

    def replica_urls(self) -> list[str]:
        return [f"http://{HOST}:{s.port}" for s in self.services if s.kind == "api"]

    def save(self) -> None:
        path = Path(self.dir) / STATE_FILE
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self), indent=2) + "\n")
        partial.chmod(0o600)  # it holds the demo and admin passwords
        partial.replace(path)

    @classmethod
    def load(cls, directory: Path) -> ClusterState:
        raw = json.loads((directory / STATE_FILE).read_text())
        raw["demo"] = Credentials(**raw["demo"])
        raw["admin"] = Credentials(**raw["admin"])
        raw["analyst"] = Credentials(**raw["analyst"])
        raw["services"] = [Service(**item) for item in raw["services"]]
        return cls(**raw)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (never PostgreSQL's or Redis' default)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port not in {5432, 6379, 8000, 8080}:
            return port


def pid_dir(directory: Path) -> Path:
    return directory / "pids"


def write_pid_file(directory: Path, order: int, name: str, pid: int, started: float) -> None:
    """`pids/<order>-<name>.pid` holding "pid create_time" (a reused pid is not ours)."""
    folder = pid_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{order:02d}-{name}.pid").write_text(f"{pid} {started}\n")


def pid_files(directory: Path) -> list[Path]:
    """Pid files, the last started first (the order `down` stops them in)."""
    folder = pid_dir(directory)
    return sorted(folder.glob("*.pid"), reverse=True) if folder.is_dir() else []


def is_cluster_dir(directory: Path) -> bool:
    return (directory / STATE_FILE).exists() or bool(pid_files(directory))
