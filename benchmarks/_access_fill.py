"""Redis' CPU per limiter call at two window fills, measured side by side.

The access benchmark's rounds fill one key's window more and more, but they are seconds
apart, and on a shared machine Redis' CPU per command drifts more than that between them.
Here the limiter's own Redis counters (quantdesk.ratelimit.redis_counters, the code the app
runs) count blocks of calls on two keys in alternation: a key whose window already holds
`high` requests, and a fresh key per block (at most `calls` requests in its window). Every
block is sent the way the app sends calls under load (concurrent callers, pipelined), and
Redis' `used_cpu_sys + used_cpu_user` is read around it. The window position is fixed (the
same window index and offset for every call), so no window boundary can intervene.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from dataclasses import dataclass

import redis

from quantdesk.ratelimit.redis_counters import RedisCounters

LIMIT, WINDOW_MS, INDEX, ELAPSED = 10_000_000, 60_000, 28_333_334, 30_000
CALLERS = 64


@dataclass(frozen=True)
class FillComparison:
    high_fill: int  # requests in the full key's window when its blocks ran (at least)
    low_fill: int  # requests in a fresh key's window (at most)
    high_us: list[float]  # Redis CPU per call, per block
    low_us: list[float]

    @property
    def high(self) -> float:
        return statistics.median(self.high_us)

    @property
    def low(self) -> float:
        return statistics.median(self.low_us)

    @property
    def ratio(self) -> float:
        return self.high / self.low


def _cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def _count(counters: RedisCounters, key: str, calls: int) -> None:
    async def caller(n: int) -> None:
        for _ in range(n):
            allowed = (await counters.ahit(key, LIMIT, WINDOW_MS, INDEX, ELAPSED))[0]
            if not allowed:
                raise RuntimeError("the fill comparison's limit was reached")

    share, extra = divmod(calls, CALLERS)
    await asyncio.gather(*(caller(share + (i < extra)) for i in range(CALLERS)))


async def _compare(url: str, high: int, blocks: int, calls: int) -> FillComparison:
    counters = RedisCounters(url, f"bench:fill:{uuid.uuid4().hex}", timeout_seconds=5.0)
    client = redis.Redis.from_url(url)
    high_us: list[float] = []
    low_us: list[float] = []
    try:
        await _count(counters, "full", high)
        for block in range(2 * blocks):
            full = block % 2 == 0
            key = "full" if full else f"fresh:{block}"
            before = _cpu(client)
            await _count(counters, key, calls)
            (high_us if full else low_us).append((_cpu(client) - before) * 1e6 / calls)
    finally:
        await counters.aclose()
        client.close()
    return FillComparison(high, calls, high_us, low_us)


def compare_fills(
    url: str, high: int = 100_000, blocks: int = 6, calls: int = 5_000
) -> FillComparison:
    return asyncio.run(_compare(url, high, blocks, calls))


if __name__ == "__main__":  # a quick look: python -m benchmarks._access_fill redis://...
    import sys

    result = compare_fills(sys.argv[1])
    print(
        f"Redis CPU per call: fill >= {result.high_fill:,}: {result.high:.2f} us, "
        f"fill <= {result.low_fill:,}: {result.low:.2f} us, ratio {result.ratio:.2f}x"
    )
