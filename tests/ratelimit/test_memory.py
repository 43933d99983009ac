"""The O(1) moving-window storage answers exactly as `limits`' own MemoryStorage."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from quantdesk.ratelimit.memory import MovingWindowMemoryStorage

steps = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=4.0),  # seconds since the previous request
        st.integers(min_value=1, max_value=3),  # cost
        st.sampled_from(["a", "b"]),  # key
    ),
    max_size=60,
)


@given(steps=steps, amount=st.integers(min_value=1, max_value=6))
@settings(max_examples=150, deadline=None)
def test_same_decisions_and_window_stats_as_limits(
    steps: list[tuple[float, int, str]], amount: int
) -> None:
    item = RateLimitItemPerSecond(amount, 10)
    clock = [1_700_000_000.0]
    ours = MovingWindowRateLimiter(MovingWindowMemoryStorage())
    reference = MovingWindowRateLimiter(MemoryStorage())

    async def run() -> None:
        for delay, cost, key in steps:
            clock[0] += delay
            expected = await reference.hit(item, key, cost=cost)
            assert await ours.hit(item, key, cost=cost) == expected
            got = await ours.get_window_stats(item, key)
            want = await reference.get_window_stats(item, key)
            assert got.remaining == want.remaining
            if want.remaining < amount:  # an empty window's start is arbitrary in `limits`
                assert got.reset_time == want.reset_time

    real_time = time.time
    time.time = lambda: clock[0]  # both storages read time.time()
    try:
        asyncio.run(run())
    finally:
        time.time = real_time


async def test_clear_and_reset_forget_windows() -> None:
    limiter = MovingWindowRateLimiter(MovingWindowMemoryStorage())
    item = RateLimitItemPerSecond(1, 60)
    assert await limiter.hit(item, "k")
    assert not await limiter.hit(item, "k")
    await limiter.clear(item, "k")
    assert await limiter.hit(item, "k")
    await limiter.storage.reset()
    assert await limiter.hit(item, "k")


@pytest.mark.parametrize("cost", [2, 5])
async def test_a_cost_above_the_limit_is_refused(cost: int) -> None:
    limiter = MovingWindowRateLimiter(MovingWindowMemoryStorage())
    assert not await limiter.hit(RateLimitItemPerSecond(1, 60), "k", cost=cost)
