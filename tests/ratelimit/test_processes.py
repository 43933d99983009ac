"""One limit, two real uvicorn processes, one Redis: exactly N requests get through."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.servers import RedisProcess

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
LIMIT, SENT = 20, 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.ratelimit.app_for_processes:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{base} did not start; log:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_a_limit_is_shared_exactly_by_two_uvicorn_processes(
    redis_process: RedisProcess, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "QD_TEST_REDIS_URL": redis_process.url,
        "QD_TEST_GUEST_LIMIT": f"{LIMIT}/minute",
        "QD_TEST_KEY_PREFIX": f"test:{uuid.uuid4().hex}",
    }
    bases = [f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}"]
    log = tmp_path / "uvicorn.log"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for base in bases:
            processes.append(_start(int(base.rsplit(":", 1)[1]), env, log))
        for base, process in zip(bases, processes, strict=True):
            _wait_ready(base, process, log)

        with httpx.Client(timeout=10) as http, ThreadPoolExecutor(max_workers=6) as pool:
            # Alternate between the processes, several requests in flight at once.
            responses = list(
                pool.map(lambda n: http.get(f"{bases[n % 2]}/api/market"), range(SENT))
            )
    finally:
        for process in processes:
            _stop(process)

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == SENT - LIMIT, statuses
    served_by = {str(r.url).rsplit("/api", 1)[0] for r in responses if r.status_code == 200}
    assert served_by == set(bases)  # both processes let requests through

    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert refused.headers["RateLimit-Limit"] == refused.headers["X-RateLimit-Limit"] == "20"
    assert refused.headers["RateLimit-Remaining"] == refused.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(refused.headers["Retry-After"]) <= 120  # within two windows
    assert 0 <= int(refused.headers["RateLimit-Reset"]) <= 120
    assert int(refused.headers["X-RateLimit-Reset"]) >= int(time.time())
    # Remaining is read just after the atomic hit, so concurrent requests may report the
    # same value; it never goes negative and reaches 0 when the window is full.
    remaining = [int(r.headers["RateLimit-Remaining"]) for r in responses if r.status_code == 200]
    assert all(0 <= value < LIMIT for value in remaining)
    assert min(remaining) == 0
