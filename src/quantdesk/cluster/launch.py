"""`quantdesk cluster up`: PostgreSQL, Redis, the schema and the demo, N API replicas, Celery
workers and beat, haproxy in front; every process recorded before the next one starts."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from quantdesk.cluster import procs
from quantdesk.cluster.binaries import find_binary, postgres_bin_dir, postgres_user
from quantdesk.cluster.control import down
from quantdesk.cluster.haproxy import render_haproxy
from quantdesk.cluster.state import HOST, ClusterState, Credentials, Service, free_port
from quantdesk.ratelimit.policies import POLICIES

QUANTDESK = [sys.executable, "-m", "quantdesk.cli"]
DEMO_EMAIL = "demo@example.com"
ADMIN_EMAIL = "admin@cluster.example.com"
ANALYST_EMAIL = "analyst@cluster.example.com"
READY_TIMEOUT = 120.0
# Named policies the load would trip from one client address (login, register, orders ...);
# api-keys-create keeps its "10 per hour" per user: the rate-limit invariant counts on it.
KEPT_POLICIES = frozenset({"api-keys-create"})
HIGH_LIMIT = "1000000/minute"


class ClusterError(RuntimeError):
    """`up` could not bring the cluster up (the message names the process and its log)."""


def _log_tail(path: Path, chars: int = 2_000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return "<no log>"


def _run(argv: list[str], env: dict[str, str], log: Path, what: str, timeout: float) -> None:
    with log.open("ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        result = subprocess.run(  # noqa: S603 - our own argv, no shell
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=timeout,
        )
    if result.returncode != 0:
        raise ClusterError(f"{what} failed (exit {result.returncode}); {log}:\n{_log_tail(log)}")


def _tcp_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(check: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    def ready_or_dead() -> bool:
        if proc.poll() is not None:
            raise ClusterError(f"{what} exited ({proc.returncode}); {log}:\n{_log_tail(log)}")
        return check()

    try:
        procs.wait_until(ready_or_dead, READY_TIMEOUT, what)
    except TimeoutError as error:
        raise ClusterError(f"{error}; {log}:\n{_log_tail(log)}") from None


def base_env(state: ClusterState) -> dict[str, str]:
    """The environment every quantdesk process of the cluster shares."""
    policies = {name: HIGH_LIMIT for name in POLICIES if name not in KEPT_POLICIES}
    directory = Path(state.dir)
    return {
        **os.environ,
        "QUANTDESK_ENVIRONMENT": "development",
        "QUANTDESK_DATABASE_URL": state.database_url,
        "QUANTDESK_REDIS_URL": state.redis_url,
        "QUANTDESK_EVENTS_BACKEND": "redis",
        "QUANTDESK_JOBS_BACKEND": "celery",
        "QUANTDESK_JOBS_SCHEDULER_ENABLED": "false",  # beat schedules, once for the cluster
        "QUANTDESK_CELERY_BEAT_SCHEDULE_FILE": str(directory / "celerybeat-schedule"),
        # A worker killed whole has its task back within 20-30 s (docs/jobs.md); every task
        # of the cluster's load takes well under that.
        "QUANTDESK_CELERY_VISIBILITY_TIMEOUT_SECONDS": "20",
        "QUANTDESK_EXPORTS_DIR": str(directory / "exports"),
        "QUANTDESK_TRUSTED_PROXIES": f"{HOST}/32",
        "QUANTDESK_DEMO_PASSWORD": state.demo.password,
        "QUANTDESK_WEBHOOKS_ALLOW_HOSTS": f"{HOST}:{state.webhook_receiver_port}",
        "QUANTDESK_RATE_LIMIT_GUEST": HIGH_LIMIT,
        "QUANTDESK_RATE_LIMIT_USER": HIGH_LIMIT,
        "QUANTDESK_RATE_LIMIT_PREMIUM": HIGH_LIMIT,
        "QUANTDESK_RATE_LIMIT_ANALYST": HIGH_LIMIT,
        "QUANTDESK_RATE_LIMIT_POLICIES": json.dumps(policies),
        "QUANTDESK_LOGIN_FAILURES_PER_IP": "100000",
        # One analyst account makes every export of the load test (export:data).
        "QUANTDESK_EXPORTS_MAX_ACTIVE_PER_USER": "100000",
        "QUANTDESK_LOG_LEVEL": "WARNING",
        "QUANTDESK_SECRET_KEY": state_secret(directory),
    }


def state_secret(directory: Path) -> str:
    """One signing key for every replica (a token from one is valid on all)."""
    path = directory / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def spawn_postgres(
    launcher: procs.Launcher, state: ClusterState, port: int
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the postmaster on the cluster's data directory (also after a crash: it runs its
    recovery first) and wait until it accepts connections."""
    bin_dir = postgres_bin_dir()
    prefix, _ = postgres_user()
    tmp = Path(state.postgres_data)
    options = {
        "listen_addresses": HOST,
        "port": str(port),
        "unix_socket_directories": str(tmp),
        "max_connections": "300",
        "logging_collector": "off",
    }
    argv = [*prefix, str(bin_dir / "postgres"), "-D", str(tmp / "data")]
    argv += [arg for key, value in options.items() for arg in ("-c", f"{key}={value}")]
    proc, log = launcher.spawn("postgres", argv, os.environ, cwd=tmp)
    isready = [str(bin_dir / "pg_isready"), "-q", "-h", HOST, "-p", str(port), "-U", "postgres"]

    def accepting() -> bool:
        return subprocess.run(isready, check=False).returncode == 0  # noqa: S603

    _wait(accepting, proc, log, "postgres")
    return proc, log


def _start_postgres(launcher: procs.Launcher, state: ClusterState, port: int) -> Service:
    bin_dir = postgres_bin_dir()
    prefix, user = postgres_user()
    tmp = Path(state.postgres_data)
    if user is not None:
        os.chown(tmp, user.pw_uid, user.pw_gid)
    tmp.chmod(0o700)
    data = tmp / "data"
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    initdb += ["--encoding=UTF8", "--locale=C", "--no-sync"]
    _run([*prefix, *initdb], dict(os.environ), launcher.logs / "initdb.log", "initdb", 120)
    proc, log = spawn_postgres(launcher, state, port)
    createdb = [str(bin_dir / "createdb"), "-h", HOST, "-p", str(port), "-U", "postgres"]
    _run([*createdb, "quantdesk"], dict(os.environ), log, "createdb", 60)
    return Service("postgres", "postgres", proc.pid, port, str(log))


def _start_redis(launcher: procs.Launcher, directory: Path, port: int) -> Service:
    proc, log = spawn_redis(launcher, directory, port)
    return Service("redis", "redis", proc.pid, port, str(log))


def spawn_redis(
    launcher: procs.Launcher, directory: Path, port: int
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start redis-server (no persistence: a restarted one is empty) and wait for PONG."""
    redis = find_binary("redis-server", "redis-server")
    data = directory / "redis"
    data.mkdir(exist_ok=True)
    argv = [str(redis), "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
    argv += ["--daemonize", "no", "--dir", str(data)]
    proc, log = launcher.spawn("redis", argv, os.environ)
    _wait(lambda: _redis_ping(port), proc, log, "redis")
    return proc, log


def spawn_worker(
    launcher: procs.Launcher, env: Mapping[str, str], name: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """One Celery worker (`quantdesk worker`, one pool process) named `name`."""
    argv = [*QUANTDESK, "worker", "--concurrency", "1", "-n", f"{name}@%h"]
    return launcher.spawn(name, [*argv, "--without-gossip", "--without-mingle"], env)


def up(directory: Path, replicas: int, workers: int) -> ClusterState:
    """Start the whole cluster in `directory` and return its state (also in cluster.json)."""
    haproxy = find_binary("haproxy", "haproxy")  # every binary checked before anything starts
    postgres_bin_dir()
    find_binary("redis-server", "redis-server")
    directory.mkdir(parents=True, exist_ok=True)
    if procs.any_alive(directory):
        raise ClusterError(f"a cluster is already running in {directory}: `quantdesk cluster down`")
    pg_port, redis_port = free_port(), free_port()
    state = ClusterState(
        dir=str(directory.resolve()),
        url=f"http://{HOST}:{free_port()}",
        stats_port=free_port(),
        database_url=f"postgresql+asyncpg://postgres@{HOST}:{pg_port}/quantdesk",
        redis_url=f"redis://{HOST}:{redis_port}/0",
        postgres_data=tempfile.mkdtemp(prefix="quantdesk-cluster-pg-"),
        webhook_receiver_port=free_port(),
        demo=Credentials(DEMO_EMAIL, "Qd-" + secrets.token_urlsafe(18)),
        admin=Credentials(ADMIN_EMAIL, "Qd-" + secrets.token_urlsafe(18)),
        analyst=Credentials(ANALYST_EMAIL, "Qd-" + secrets.token_urlsafe(18)),
        replicas=replicas,
        workers=workers,
    )
    launcher = procs.Launcher(directory)
    try:
        _start(launcher, state, haproxy, pg_port, redis_port)
    except BaseException:
        state.save()
        down(directory)
        raise
    return state


def _start(
    launcher: procs.Launcher, state: ClusterState, haproxy: Path, pg_port: int, redis_port: int
) -> None:
    directory = Path(state.dir)
    state.services.append(_start_postgres(launcher, state, pg_port))
    state.save()
    state.services.append(_start_redis(launcher, directory, redis_port))
    state.save()
    env = base_env(state)
    setup_log = launcher.logs / "setup.log"
    _run([*QUANTDESK, "db", "upgrade"], env, setup_log, "quantdesk db upgrade", 300)
    _run([*QUANTDESK, "demo", "load"], env, setup_log, "quantdesk demo load", 600)
    for role, account in (("admin", state.admin), ("analyst", state.analyst)):
        create = ["users", "create", "--email", account.email, "--role", role]
        _run([*QUANTDESK, *create, "--password", account.password], env, setup_log, role, 120)
    started: list[tuple[subprocess.Popen[bytes], Service]] = []
    for index in range(1, state.replicas + 1):
        port = free_port()
        argv = [*QUANTDESK, "serve", "--host", HOST, "--port", str(port)]
        proc, log = launcher.spawn(f"api{index}", argv, env)
        started.append((proc, Service(f"api{index}", "api", proc.pid, port, str(log))))
    for index in range(1, state.workers + 1):
        name = f"worker{index}"
        proc, log = spawn_worker(launcher, env, name)
        started.append((proc, Service(name, "worker", proc.pid, None, str(log))))
    proc, log = launcher.spawn("beat", [*QUANTDESK, "beat"], env)
    started.append((proc, Service("beat", "beat", proc.pid, None, str(log))))
    state.services += [service for _, service in started]
    state.save()
    for proc, service in started:
        if service.kind == "api":
            ready = functools.partial(_ready, f"http://{HOST}:{service.port}")
            _wait(ready, proc, Path(service.log), service.name)
    config = directory / "haproxy.cfg"
    lb_port = int(state.url.rsplit(":", 1)[1])
    replica_ports = [s.port for s in state.services if s.kind == "api" and s.port is not None]
    config.write_text(render_haproxy(lb_port, state.stats_port, replica_ports))
    proc, log = launcher.spawn("haproxy", [str(haproxy), "-f", str(config), "-db"], os.environ)
    state.services.append(Service("haproxy", "haproxy", proc.pid, lb_port, str(log)))
    state.save()
    _wait(lambda: _all_up_behind(state), proc, log, "haproxy (every replica ready)")
    for proc, service in started:  # a worker or beat that died at start fails `up`
        if proc.poll() is not None:
            tail = _log_tail(Path(service.log))
            raise ClusterError(f"{service.name} exited; {service.log}:\n{tail}")


def _all_up_behind(state: ClusterState) -> bool:
    """Every replica answers /health/ready through haproxy (roundrobin: N in a row)."""
    return all(_ready(state.url) for _ in range(state.replicas * 2))
