"""Redis mode: single-flight across processes, values that round-trip through JSON, and an
API that keeps answering while Redis is gone (misses, never exceptions) and recovers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio

from quantdesk.infra.cache import Cache, CacheCategory, CacheStatus, RedisBackend, symbol_tag
from quantdesk.infra.cache import redis_backend as redis_backend_module
from tests.support.cache import Compute, FakeClock
from tests.support.servers import RedisProcess

pytestmark = pytest.mark.redis
QUOTES = CacheCategory.QUOTES
HIT, MISS, STALE = CacheStatus.HIT, CacheStatus.MISS, CacheStatus.STALE
RETRY = 0.2


@pytest.fixture
async def caches(redis_process: RedisProcess) -> AsyncIterator[list[Cache]]:
    """Two caches on one Redis and one key prefix: two processes of one deployment."""
    prefix = f"test:{uuid.uuid4().hex}"
    pair = [Cache(RedisBackend(redis_process.url, prefix=prefix)) for _ in range(2)]
    yield pair
    for cache in pair:
        await cache.aclose()


async def test_two_caches_on_one_redis_compute_a_cold_key_once(caches: list[Cache]) -> None:
    compute = Compute(delay=0.2)
    answers = await asyncio.gather(
        *(caches[n % 2].get_or_compute(QUOTES, "AAPL", compute) for n in range(1000))
    )
    assert compute.calls == 1
    assert set(answers) == {("v1", MISS)}
    assert await caches[1].get_or_compute(QUOTES, "AAPL", compute) == ("v1", HIT)


async def test_two_caches_refresh_a_stale_key_once(redis_process: RedisProcess) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    clock = FakeClock()
    first, second = (
        Cache(RedisBackend(redis_process.url, prefix=prefix), clock=clock) for _ in range(2)
    )
    try:
        compute = Compute(delay=0.1)
        await first.get_or_compute(QUOTES, "AAPL", compute)
        clock.advance(31)
        answers = await asyncio.gather(
            *((first, second)[n % 2].get_or_compute(QUOTES, "AAPL", compute) for n in range(20))
        )
        assert set(answers) == {("v1", STALE)}
        await first.wait_background()
        await second.wait_background()
        assert compute.calls == 2
        assert await second.get_or_compute(QUOTES, "AAPL", compute) == ("v2", HIT)
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_waiter_computes_itself_when_the_lock_holder_vanished(
    redis_process: RedisProcess,
) -> None:
    prefix = f"test:{uuid.uuid4().hex}"
    cache = Cache(RedisBackend(redis_process.url, prefix=prefix), lock_seconds=0.3)
    client = redis.asyncio.Redis.from_url(redis_process.url)
    try:
        # A process took the fill lock and died: the lock expires on its own.
        await client.set(f"{prefix}:l:quotes:AAPL", "dead-process", px=300)
        compute = Compute()
        assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v1", MISS)
        assert compute.calls == 1
    finally:
        await client.aclose()
        await cache.aclose()


async def test_values_round_trip_as_json_and_unserializable_ones_are_not_stored(
    caches: list[Cache], monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[str] = []
    monkeypatch.setattr(
        redis_backend_module.log, "error", lambda event, **_: errors.append(str(event))
    )
    quote = {"symbol": "AAPL", "price": 187.25, "volume": 1200, "tags": ["a", None]}

    async def fetch() -> dict[str, Any]:
        return quote

    await caches[0].get_or_compute(QUOTES, "AAPL", fetch)
    assert await caches[1].get_or_compute(QUOTES, "AAPL", fetch) == (quote, HIT)

    class Opaque:
        pass

    opaque = Opaque()

    async def fetch_opaque() -> Opaque:
        return opaque

    # Returned to its caller, logged, and simply not cached.
    assert await caches[0].get_or_compute(QUOTES, "X", fetch_opaque) == (opaque, MISS)
    assert await caches[0].get_or_compute(QUOTES, "X", fetch_opaque) == (opaque, MISS)
    assert errors == ["cache.unserializable_value"] * 2


class RecordingLog:
    def __init__(self) -> None:
        self.events: list[str] = []

    def warning(self, event: str, **_: Any) -> None:
        self.events.append(event)

    def info(self, event: str, **_: Any) -> None:
        return None


async def test_redis_stopping_mid_test_gives_misses_then_recovers(
    redis_process: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordingLog()
    monkeypatch.setattr(redis_backend_module, "log", recorder)
    backend = RedisBackend(
        redis_process.url, prefix=f"test:{uuid.uuid4().hex}", retry_seconds=RETRY
    )
    cache = Cache(backend)
    compute = Compute()
    try:
        await cache.get_or_compute(QUOTES, "AAPL", compute)
        assert (await cache.get_or_compute(QUOTES, "AAPL", compute))[1] is HIT
        redis_process.stop()
        try:
            for call in range(2, 5):
                assert await cache.get_or_compute(QUOTES, "AAPL", compute) == (f"v{call}", MISS)
            assert (await cache.stats()).degraded
            assert await cache.invalidate_tag(symbol_tag(QUOTES, "AAPL")) == 0
            # Single-flight still holds within the process while Redis is away.
            compute.delay = 0.05
            answers = await asyncio.gather(
                *(cache.get_or_compute(QUOTES, "MSFT", compute) for _ in range(100))
            )
            assert {status for _, status in answers} == {MISS}
            assert compute.calls == 5
            await asyncio.sleep(RETRY + 0.05)
            # Still down when probed again: the same quiet miss.
            assert (await cache.get_or_compute(QUOTES, "AAPL", compute))[1] is MISS
            stats = await cache.stats()
            assert stats.degraded and stats.categories["quotes"].size is None
        finally:
            redis_process.start()
        await asyncio.sleep(RETRY + 0.05)
        assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v7", MISS)
        assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v7", HIT)
        assert not (await cache.stats()).degraded
    finally:
        await cache.aclose()
    assert recorder.events == ["cache.redis_degraded", "cache.redis_recovered"]


async def test_unreachable_redis_at_startup_answers_with_misses() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cache = Cache(RedisBackend(f"redis://127.0.0.1:{port}/0", retry_seconds=RETRY))
    compute = Compute()
    try:
        for call in range(1, 4):
            assert await cache.get_or_compute(QUOTES, "AAPL", compute) == (f"v{call}", MISS)
        assert await cache.invalidate_tag("quotes:AAPL") == 0
        assert (await cache.stats()).degraded
    finally:
        await cache.aclose()


class Relay:
    """A TCP relay in front of Redis that can be cut (a network partition: Redis keeps its
    data) and restored on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        await asyncio.sleep(0.01)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self._writers |= {writer, upstream_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))


async def test_invalidations_missed_during_a_partition_are_replayed_on_recovery(
    redis_process: RedisProcess,
) -> None:
    relay = Relay(int(redis_process.url.rsplit(":", 1)[1].split("/")[0]))
    await relay.start()
    cache = Cache(RedisBackend(relay.url, prefix=f"test:{uuid.uuid4().hex}", retry_seconds=RETRY))
    compute = Compute()
    tag = symbol_tag(QUOTES, "AAPL")
    try:
        await cache.get_or_compute(QUOTES, "AAPL", compute, tags=[tag])
        await cache.get_or_compute(QUOTES, "MSFT", compute)
        await relay.cut()
        # New bars arrive while Redis is unreachable (but keeps its data).
        assert await cache.invalidate_tag(tag) == 0
        assert (await cache.stats()).degraded
        await relay.start()
        await asyncio.sleep(RETRY + 0.05)
        # The outdated quote is not served after the partition heals; others survive.
        assert await cache.get_or_compute(QUOTES, "AAPL", compute) == ("v3", MISS)
        assert await cache.get_or_compute(QUOTES, "MSFT", compute) == ("v2", HIT)
    finally:
        await cache.aclose()
        await relay.cut()
