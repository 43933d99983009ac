"""The sliding-window counter: its decisions, remaining counts, reset and retry times, on a
clock the tests control (no sleeping)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.access.scopes import Role
from quantdesk.ratelimit import RateLimitConfig, RateLimiter
from quantdesk.ratelimit.memory import WindowCounters
from quantdesk.ratelimit.policies import build_tiers, parse_limit
from quantdesk.ratelimit.window import Counted, admits, outcome, position

T0 = 1_700_000_080.0  # 40 s into the minute window that starts at 1_700_000_040


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_full_window_weighs_into_the_next_one() -> None:
    clock = Clock(T0)
    limiter = RateLimiter(RateLimitConfig(), clock=clock)
    item = parse_limit("4/minute")
    first = [await limiter.hit("k", item, fail_closed=False) for _ in range(5)]
    assert [d.allowed for d in first] == [True, True, True, True, False]
    assert [d.remaining for d in first] == [3, 2, 1, 0, 0]
    # Refused 40 s into the window; the 4 requests weigh 4 x (60 - e) / 60 in the next one,
    # which leaves room for one more at e = 15 s: 20 s + 15 s from now.
    assert first[-1].retry_after == 35
    assert first[-1].reset_at == 1_700_000_115.0
    assert first[0].reset_at == 1_700_000_160.0  # all 4 slots free only after the next window

    clock.now = 1_700_000_114.999
    assert not (await limiter.hit("k", item, fail_closed=False)).allowed
    clock.now = 1_700_000_115.0
    allowed = await limiter.hit("k", item, fail_closed=False)
    assert (allowed.allowed, allowed.remaining) == (True, 0)
    # Half-way through the window the 4 earlier requests weigh 2: with the one counted at
    # 15 s there is room for exactly one more.
    clock.now = 1_700_000_130.0
    decision = await limiter.hit("k", item, fail_closed=False)
    assert (decision.allowed, decision.remaining) == (True, 0)
    assert (await limiter.hit("k", item, fail_closed=False)).allowed is False
    # Two windows later nothing is left.
    clock.now = 1_700_000_230.0
    fresh = await limiter.hit("k", item, fail_closed=False)
    assert (fresh.allowed, fresh.remaining, fresh.retry_after) == (True, 3, 0)


async def test_an_untouched_key_reports_its_whole_limit_and_resets_now() -> None:
    clock = Clock(T0)
    limiter = RateLimiter(RateLimitConfig(), clock=clock)
    decision = await limiter.hit("k", parse_limit("1/second"), fail_closed=False)
    assert (decision.allowed, decision.remaining, decision.window_seconds) == (True, 0, 1)
    assert decision.reset_at == T0 + 2  # the request weighs on until the next window ends


def test_limits_too_large_to_count_exactly_are_refused_at_startup() -> None:
    with pytest.raises(ValueError, match=r"premium tier.*too large to count"):
        RateLimitConfig(tiers=build_tiers({Role.PREMIUM: "1000000000/day"}))
    RateLimitConfig(tiers=build_tiers({Role.PREMIUM: "1000000/minute"}))


def exact_weighted(counted: Counted, window_ms: int) -> Fraction:
    _, _, elapsed, current, previous = counted
    return Fraction(previous * (window_ms - elapsed), window_ms) + current


def probe(counters: WindowCounters, key: str, limit: int, window_ms: int, at_ms: int) -> Counted:
    """What a hit at `at_ms` would see, on a copy (the real counters are left alone)."""
    copy = WindowCounters()
    copy.states = {k: list(v) for k, v in counters.states.items()}
    return copy.hit(key, limit, window_ms, *position(at_ms, window_ms))


@given(
    limit=st.integers(min_value=1, max_value=6),
    window_ms=st.sampled_from([1000, 2000, 3000]),
    gaps=st.lists(st.integers(min_value=0, max_value=2500), min_size=1, max_size=40),
)
@settings(max_examples=150, deadline=None)
def test_decisions_remaining_reset_and_retry_follow_the_weighted_count(
    limit: int, window_ms: int, gaps: list[int]
) -> None:
    counters = WindowCounters()
    now_ms = 1_700_000_000_000
    counted_in_window: dict[int, int] = {}
    for gap in gaps:
        now_ms += gap
        counted = counters.hit("k", limit, window_ms, *position(now_ms, window_ms))
        weighted = exact_weighted(counted, window_ms)
        # The decision: the weighted count (this request included) stays within the limit.
        allowed, window = counted[0], counted[1]
        if allowed:
            assert weighted <= limit
        else:
            assert weighted + 1 > limit
        if allowed:
            counted_in_window[window] = counted_in_window.get(window, 0) + 1
        assert all(n <= limit for n in counted_in_window.values())
        remaining, reset_ms, retry_ms = outcome(limit, window_ms, counted, now_ms)
        assert remaining == max(0, int(limit - weighted))
        # The reset time: the first ms at which one more slot is free.
        if remaining < limit:
            later = probe(counters, "k", limit, window_ms, reset_ms)
            assert limit - exact_weighted(later, window_ms) + later[0] >= remaining + 1
            if reset_ms > now_ms:
                before = probe(counters, "k", limit, window_ms, reset_ms - 1)
                room = limit - exact_weighted(before, window_ms) + before[0]
                assert room < remaining + 1
        else:
            assert reset_ms == now_ms
        # The retry time of a refusal: the first ms a request would be let through.
        if not allowed:
            assert probe(counters, "k", limit, window_ms, retry_ms)[0]
            assert retry_ms > now_ms
            assert not probe(counters, "k", limit, window_ms, retry_ms - 1)[0]


def test_admits_is_the_weighted_count_plus_one_within_the_limit() -> None:
    # 3 previous requests half a window ago weigh 1.5; with 2 current, one more makes 4.5.
    assert admits(5, 1000, 500, 2, 3)
    assert not admits(4, 1000, 500, 2, 3)
    # With a limit of 4, room comes when 3 x (1000 - e) / 1000 <= 1: at e = 667 ms, not 666.
    assert not admits(4, 1000, 666, 2, 3)
    assert admits(4, 1000, 667, 2, 3)
