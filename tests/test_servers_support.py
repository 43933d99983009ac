"""Tests for tests/support/servers.py (and the postgres_server/redis_server modules behind it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.support import postgres_server, redis_server, servers
from tests.support.servers import (
    PostgresServer,
    RedisProcess,
    RedisServer,
    ServerUnavailable,
    running_postgres,
    running_redis,
    server_required,
)
from tests.support.settings import start_or_skip, unavailable


# Function-scoped on purpose: these tests stop, restart and break their servers.
@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_postgres())


@pytest.fixture
def redis_proc() -> Iterator[RedisProcess]:
    with contextlib.ExitStack() as stack:
        yield start_or_skip(stack, running_redis())


async def _refuses(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except ConnectionRefusedError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


# --------------------------------------------------------------------------- PostgreSQL


def test_postgres_url_formats() -> None:
    server = PostgresServer(host="127.0.0.1", port=5555, user="postgres", data_dir=Path("/x"))
    assert server.url("db") == "postgresql+asyncpg://postgres@127.0.0.1:5555/db"
    assert server.url("db", driver="") == "postgresql://postgres@127.0.0.1:5555/db"
    assert server.url("db", driver="psycopg") == "postgresql+psycopg://postgres@127.0.0.1:5555/db"


async def test_postgres_table_roundtrip(postgres: PostgresServer) -> None:
    assert postgres.host == "127.0.0.1"
    assert postgres.port not in (5432, 6379)
    conn = await asyncpg.connect(postgres.url("postgres", driver=""))
    try:
        await conn.execute("CREATE TABLE bars (symbol text NOT NULL, close double precision)")
        await conn.executemany(
            "INSERT INTO bars (symbol, close) VALUES ($1, $2)",
            [("GOOG", 101.5), ("BTCUSD", 64000.0)],
        )
        rows = await conn.fetch("SELECT symbol, close FROM bars ORDER BY symbol")
        assert [(r["symbol"], r["close"]) for r in rows] == [("BTCUSD", 64000.0), ("GOOG", 101.5)]
        settings = {
            name: await conn.fetchval(f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "full_page_writes", "listen_addresses")
        }
        assert settings == {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "listen_addresses": "127.0.0.1",
        }
        assert await conn.fetchval("SHOW server_encoding") == "UTF8"
    finally:
        await conn.close()


async def test_postgres_create_and_drop_database(postgres: PostgresServer) -> None:
    # Called from inside a running event loop on purpose: it must still work.
    postgres.create_database("qd_test")
    conn = await asyncpg.connect(postgres.url("qd_test", driver=""))
    try:
        assert await conn.fetchval("SELECT current_database()") == "qd_test"
        await conn.execute("CREATE TABLE t (x int)")
    finally:
        await conn.close()

    # Re-creating gives a fresh, empty database.
    postgres.create_database("qd_test")
    conn = await asyncpg.connect(postgres.url("qd_test", driver=""))
    try:
        assert await conn.fetchval("SELECT to_regclass('public.t')") is None
        # Dropping while a session is still connected works (the session is terminated).
        postgres.drop_database("qd_test")
    finally:
        with contextlib.suppress(Exception):
            await conn.close()

    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await asyncpg.connect(postgres.url("qd_test", driver=""))
    postgres.drop_database("qd_test")  # dropping a missing database is fine


def test_postgres_create_database_from_sync_code(postgres: PostgresServer) -> None:
    postgres.create_database('odd "name"')

    async def check() -> str:
        conn = await asyncpg.connect(
            host=postgres.host, port=postgres.port, user=postgres.user, database='odd "name"'
        )
        try:
            return str(await conn.fetchval("SELECT current_database()"))
        finally:
            await conn.close()

    assert asyncio.run(check()) == 'odd "name"'
    postgres.drop_database('odd "name"')


async def test_two_postgres_servers_at_once_and_cleanup() -> None:
    try:
        with running_postgres() as first, running_postgres() as second:
            assert first.port != second.port
            assert first.data_dir != second.data_dir
            for server in (first, second):
                conn = await asyncpg.connect(server.url("postgres", driver=""))
                try:
                    assert await conn.fetchval("SHOW port") == str(server.port)
                finally:
                    await conn.close()
    except ServerUnavailable as exc:
        unavailable(exc)
    for server in (first, second):
        assert not server.data_dir.parent.exists()
        assert await _refuses(server.host, server.port)


def test_postgres_cleanup_on_error() -> None:
    class Boom(Exception):
        pass

    seen: list[PostgresServer] = []

    def use_and_fail() -> None:
        with running_postgres() as server:
            seen.append(server)
            raise Boom

    try:
        with pytest.raises(Boom):
            use_and_fail()
    except ServerUnavailable as exc:
        unavailable(exc)
    assert not seen[0].data_dir.parent.exists()
    assert asyncio.run(_refuses(seen[0].host, seen[0].port))


def test_postgres_missing_binaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    # Patch the module that reads the constant, not the re-exporting facade.
    monkeypatch.setattr(postgres_server, "_PG_GLOB_ROOT", tmp_path)
    with pytest.raises(ServerUnavailable, match=r"initdb.*PATH=") as info:
        servers.find_postgres_bin_dir()
    assert str(tmp_path) in str(info.value)


# --------------------------------------------------------------------------- Redis


def test_redis_url() -> None:
    assert RedisServer(host="127.0.0.1", port=7001).url == "redis://127.0.0.1:7001/0"


async def test_redis_set_get_stop_start(redis_proc: RedisProcess) -> None:
    server = redis_proc.server
    assert server.host == "127.0.0.1"
    assert server.port != 6379
    assert redis_proc.url == server.url
    assert redis_proc.is_running

    client = aioredis.Redis.from_url(server.url)
    try:
        await client.set("k", "v")
        assert await client.get("k") == b"v"

        redis_proc.stop()
        assert not redis_proc.is_running
        assert await _refuses(server.host, server.port)
        with pytest.raises(RedisConnectionError):
            await client.get("k")

        redis_proc.start()
        assert redis_proc.is_running
        assert redis_proc.server == server  # same address after a restart
        # The same client reconnects; nothing survived the restart.
        assert await client.get("k") is None
        await client.set("k", "again")
        assert await client.get("k") == b"again"

        redis_proc.start()  # no-op while running
        assert redis_proc.is_running
    finally:
        await client.aclose()


async def test_two_redis_servers_at_once_and_cleanup() -> None:
    try:
        with running_redis() as first, running_redis() as second:
            assert first.server.port != second.server.port
            tmp_dirs = (first.tmp, second.tmp)
            for n, proc in enumerate((first, second)):
                client = aioredis.Redis.from_url(proc.url)
                try:
                    await client.set("which", n)
                    assert await client.get("which") == str(n).encode()
                finally:
                    await client.aclose()
    except ServerUnavailable as exc:
        unavailable(exc)
    for proc in (first, second):
        assert not proc.is_running
        assert await _refuses(proc.server.host, proc.server.port)
    for tmp in tmp_dirs:
        assert not tmp.exists()


def test_redis_missing_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(redis_server, "_REDIS_FALLBACK_DIRS", (tmp_path,))
    with pytest.raises(ServerUnavailable, match=r"redis-server not found.*PATH="):
        servers.find_redis_server()


# --------------------------------------------------------------------------- facade


def test_facade_reexports_every_public_name() -> None:
    # benchmarks/ and tests/conftest.py import from the facade only; a missing name breaks them.
    for name in servers.__all__:
        assert getattr(servers, name) is not None, name
    assert servers.running_postgres is postgres_server.running_postgres
    assert servers.RedisProcess is redis_server.RedisProcess


# --------------------------------------------------------------------------- CI switch


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("TRUE", True), ("false", False), ("0", False), ("", False)],
)
def test_server_required(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("CI", value)
    assert server_required() is expected


def test_server_required_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert server_required() is False
