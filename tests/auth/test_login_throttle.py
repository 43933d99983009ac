"""Sign-in throttling per (account, address), per address and per account; password hashing
off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from quantdesk.app import create_app
from quantdesk.auth import passwords
from quantdesk.config import Settings
from quantdesk.db import Database
from tests.support.accounts import Account, create_user, new_password
from tests.support.problems import assert_problem
from tests.support.secrets_watch import remember

Clients = Callable[[str], httpx.AsyncClient]


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[tuple[FastAPI, Clients]]:
    """The app, and a client calling it from a given address."""
    app = create_app(settings)
    opened: list[httpx.AsyncClient] = []

    def client_from(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40_000))
        opened.append(httpx.AsyncClient(transport=transport, base_url="http://t"))
        return opened[-1]

    async with LifespanManager(app):
        try:
            yield app, client_from
        finally:
            for client in opened:
                await client.aclose()


async def _login(client: httpx.AsyncClient, account: Account, password: str) -> httpx.Response:
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": password}
    )
    if response.status_code == 200:
        remember(response.json()["access_token"], response.json()["refresh_token"])
    return response


async def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(
    settings: Settings,
) -> None:
    async with serve(settings) as (app, client_from):  # 5 per (account, address)
        a, b = client_from("198.51.100.1"), client_from("203.0.113.9")
        account = await create_user(app.state.db)
        for _ in range(5):
            assert_problem(await _login(a, account, new_password()), 401)
        refused = await _login(a, account, account.password)
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) > 0
        assert (await _login(b, account, account.password)).status_code == 200
        assert_problem(await _login(a, account, account.password), 429)  # A still throttled


async def test_past_the_account_limit_only_addresses_that_failed_are_refused(
    settings: Settings,
) -> None:
    limited = settings.model_copy(update={"login_failures_per_account": 3})
    async with serve(limited) as (app, client_from):
        account = await create_user(app.state.db)
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            assert_problem(await _login(client_from(ip), account, new_password()), 401)
        # An address that already failed is refused, even with the right password...
        assert_problem(await _login(client_from("192.0.2.1"), account, account.password), 429)
        # ... a fresh one has its password checked: the owner gets in, a guesser gets one try.
        owner = client_from("192.0.2.50")
        assert (await _login(owner, account, account.password)).status_code == 200
        guesser = client_from("192.0.2.60")
        assert_problem(await _login(guesser, account, new_password()), 401)
        assert_problem(await _login(guesser, account, account.password), 429)


class BlockingHasher:
    """Verifies by waiting for the test to release it, recording whether it was still
    blocked when another request was answered."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()

    def verify(self, password: str, password_hash: str) -> bool:
        self.entered.set()
        self.release.wait(timeout=5)  # on the event loop (the bug), this stalls it 5 s
        self.returned.set()
        return False

    def hash(self, password: str) -> str:
        raise AssertionError("not called in this test")


async def test_a_password_check_does_not_block_other_requests(
    client: httpx.AsyncClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await create_user(db)
    hasher = BlockingHasher()
    monkeypatch.setattr(passwords, "_hasher", lambda: hasher)
    signing_in = asyncio.create_task(_login(client, account, new_password()))
    try:
        for _ in range(500):
            if hasher.entered.is_set():
                break
            await asyncio.sleep(0.01)
        assert hasher.entered.is_set()
        live = await client.get("/health/live")
        assert live.status_code == 200
        # Answered while the password check was still running: it runs off the event loop.
        assert not hasher.returned.is_set()
    finally:
        hasher.release.set()
        assert_problem(await signing_in, 401)


def test_hashing_runs_one_per_cpu() -> None:
    assert passwords.hashing_slots() == max(1, os.cpu_count() or 1)
