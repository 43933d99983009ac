"""A real `quantdesk serve` for the browser tests: its own process on a free 127.0.0.1 port, on a
fresh SQLite file that got `quantdesk db upgrade` and `quantdesk demo load`, with an admin, an
ordinary user and the demo user (who owns the demo paper account) signed up with known
passwords. Settings come from QUANTDESK_* variables, as a deployment sets them; rate limits are
raised so a test run never meets them, and the in-process job schedule is off (nothing changes
under a test but what it does itself).

The demo load takes ~15 s, so the e2e conftest starts one server per session (per xdist worker;
each in its own temp dir, on its own port).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from quantdesk.ratelimit.policies import POLICIES
from tests.support.common import HOST, ServerUnavailable, _free_port, _log_tail, _reap

QUANTDESK = [sys.executable, "-m", "quantdesk.cli"]
READY_TIMEOUT = 60.0
COMMAND_TIMEOUT = 300.0
HIGH = "100000/minute"


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str


# example.com, not a .test name: POST /auth/login refuses special-use domains (422 on email).
ADMIN = Credentials("admin@example.com", "e2e-Kite-harbor-5823-plum")
USER = Credentials("trader@example.com", "e2e-Lamp-meadow-7419-fig")
# The demo account `demo load` creates (QUANTDESK_DEMO_PASSWORD; it may not contain 'demo').
DEMO = Credentials("demo@example.com", "e2e-Portfolio-pass-3306-reef")


@dataclass(frozen=True)
class LiveServer:
    base_url: str  # http://127.0.0.1:<port>, no trailing slash
    admin: Credentials
    user: Credentials
    demo: Credentials
    database_url: str
    log: Path

    def url(self, path: str) -> str:
        return self.base_url + path


def server_env(database_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "QUANTDESK_DATABASE_URL": database_url,
        "QUANTDESK_ENVIRONMENT": "development",
        "HOST": HOST,
        "PORT": str(port),
        "QUANTDESK_DEMO_PASSWORD": DEMO.password,
        "QUANTDESK_JOBS_SCHEDULER_ENABLED": "false",
        "QUANTDESK_MONITOR_ENABLED": "false",
        "QUANTDESK_RATE_LIMIT_GUEST": HIGH,
        "QUANTDESK_RATE_LIMIT_USER": HIGH,
        "QUANTDESK_RATE_LIMIT_PREMIUM": HIGH,
        "QUANTDESK_RATE_LIMIT_ANALYST": HIGH,
        "QUANTDESK_RATE_LIMIT_POLICIES": json.dumps(dict.fromkeys(POLICIES, HIGH)),
        "QUANTDESK_LOGIN_FAILURES_PER_ACCOUNT_IP": "1000",
        "QUANTDESK_LOGIN_FAILURES_PER_IP": "1000",
        "QUANTDESK_LOGIN_FAILURES_PER_ACCOUNT": "1000",
        "QUANTDESK_ABUSE_429_THRESHOLD": "100000",
    }


def _command(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        result = subprocess.run(
            [*QUANTDESK, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    if result.returncode != 0:
        raise ServerUnavailable(f"quantdesk {args[0]} failed:\n{_log_tail(log)}")


def prepare_database(workdir: Path, env: dict[str, str], log: Path) -> None:
    """Migrate, load the demo and create the admin and the ordinary user."""
    _command(["db", "upgrade"], env, log)
    _command(["demo", "load"], env, log)
    for account, role in ((ADMIN, "admin"), (USER, "user")):
        with_password = {**env, "QUANTDESK_NEW_USER_PASSWORD": account.password}
        _command(["users", "create", "--email", account.email, "--role", role], with_password, log)


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return
        if proc.poll() is not None:
            raise ServerUnavailable(f"quantdesk serve exited:\n{_log_tail(log)}")
        if time.monotonic() > deadline:  # a start-up timeout, not a speed assertion
            raise ServerUnavailable(
                f"quantdesk serve not ready in {READY_TIMEOUT} s:\n{_log_tail(log)}"
            )
        time.sleep(0.2)


@contextmanager
def running_live_server(workdir: Path) -> Iterator[LiveServer]:
    """Prepare a database in `workdir`, serve it, stop the server (and its group) after."""
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite+aiosqlite:///{workdir / 'quantdesk.db'}"
    log = workdir / "serve.log"
    port = _free_port()
    env = server_env(database_url, port)
    prepare_database(workdir, env, log)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*QUANTDESK, "serve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # _reap stops the whole group
        )
    try:
        base_url = f"http://{HOST}:{port}"
        _wait_ready(proc, base_url, log)
        yield LiveServer(base_url, ADMIN, USER, DEMO, database_url, log)
    finally:
        _reap(proc)
