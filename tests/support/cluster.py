"""A loopback cluster for tests and the scale-out harness (`quantdesk cluster up|down` as real
processes), and small HTTP helpers to act on it as fresh users, through haproxy or against one
replica. docs/scale-out.md."""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from quantdesk.cluster.binaries import BinaryMissing, find_binary, postgres_bin_dir
from quantdesk.cluster.state import ClusterState
from tests.support.common import server_required

QUANTDESK = [sys.executable, "-m", "quantdesk.cli"]
ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1"
UP_TIMEOUT = 600


def require_binaries() -> None:
    """Skip (fail on CI) when haproxy, PostgreSQL or Redis is not installed."""
    try:
        find_binary("haproxy", "haproxy")
        find_binary("redis-server", "redis-server")
        postgres_bin_dir()
    except BinaryMissing as error:
        if server_required():
            pytest.fail(f"cluster tests need it on CI: {error}")
        pytest.skip(str(error))


def cluster_command(args: list[str], timeout: float = UP_TIMEOUT) -> str:
    result = subprocess.run(
        [*QUANTDESK, "cluster", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"quantdesk cluster {' '.join(args)}: {result.stdout}{result.stderr}")
    return result.stdout


@contextlib.contextmanager
def running_cluster(directory: Path, replicas: int, workers: int) -> Iterator[ClusterState]:
    """`cluster up` in `directory`, the state it wrote, and `cluster down` afterwards always."""
    try:
        cluster_command(
            ["up", "--dir", str(directory), "--replicas", str(replicas), "--workers", str(workers)]
        )
        yield ClusterState.load(directory)
    finally:
        cluster_command(["down", "--dir", str(directory)], timeout=120)


@dataclass(frozen=True)
class Trader:
    """A fresh user signed in, with a funded paper account."""

    email: str
    token: str
    account_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_in(client: httpx.AsyncClient, base: str, email: str, password: str) -> str:
    response = await client.post(
        f"{base}{API}/auth/login", json={"email": email, "password": password}
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


async def new_user(client: httpx.AsyncClient, base: str) -> tuple[str, str]:
    """Register a fresh user; (email, access token)."""
    email = f"load-{secrets.token_hex(6)}@example.com"
    password = "Pw-" + secrets.token_urlsafe(18)
    response = await client.post(
        f"{base}{API}/auth/register", json={"email": email, "password": password}
    )
    response.raise_for_status()
    return email, await sign_in(client, base, email, password)


async def new_trader(client: httpx.AsyncClient, base: str, cash: str = "10000000") -> Trader:
    email, token = await new_user(client, base)
    response = await client.post(
        f"{base}{API}/accounts",
        json={"name": "cluster", "starting_cash": cash},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return Trader(email, token, str(response.json()["id"]))


def order_body(qty: str = "1") -> dict[str, Any]:
    return {"symbol": "GOOG", "side": "buy", "type": "limit", "qty": qty, "limit_price": "1.00"}


async def place_order(
    client: httpx.AsyncClient, base: str, trader: Trader, key: str, qty: str = "1"
) -> httpx.Response:
    return await client.post(
        f"{base}{API}/accounts/{trader.account_id}/orders",
        json=order_body(qty),
        headers={**trader.headers, "Idempotency-Key": key},
    )


async def admin_get(client: httpx.AsyncClient, state: ClusterState, path: str) -> Any:
    token = await sign_in(client, state.url, state.admin.email, state.admin.password)
    response = await client.get(
        f"{state.url}{API}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return response.json()
