"""The sliding-window counter: O(1) state per key, the same arithmetic in memory and in Redis.

A limit of N requests per window of W milliseconds keeps, per key, the index of the current
fixed window (`now // W`), the requests counted in it and the requests counted in the window
before. A request arriving `elapsed` ms into the current window sees the weighted count

    previous * (W - elapsed) / W + current

and is allowed when that count plus one is at most N. The previous window's requests are
assumed to have been spread evenly over it, which is the approximation: an exact moving window
would need every timestamp (O(requests in the window) per request). Everything here is integer
arithmetic in milliseconds (the inequality is multiplied through by W), so Python and Redis'
Lua (doubles, exact below 2**53) reach the same decisions from the same clock reading;
`RateLimitConfig` refuses limits where `N * W` could leave that range.

`roll` moves a stored state to the request's window, `admits` is the decision, `outcome` the
remaining count, when the next slot frees up (RateLimit-Reset) and when a refused request
may retry (Retry-After). memory.py and redis_counters.py apply `roll` and `admits` (the
Lua script is a line-by-line copy) and return the rolled state; the limiter calls `outcome`.
"""

from __future__ import annotations

from typing import NamedTuple

# Lua numbers are doubles: integers are exact up to here.
EXACT_INTEGER_LIMIT = 2**53


class Counted(NamedTuple):
    """A key's state in the request's window, after the request was (or was not) counted."""

    allowed: bool
    window: int  # the current fixed window: now_ms // window_ms (or a later one, see `roll`)
    elapsed: int  # ms into that window
    current: int  # requests counted in it
    previous: int  # requests counted in the window before it


class Outcome(NamedTuple):
    remaining: int
    reset_ms: int  # epoch ms when one more request slot is free (now when all are)
    retry_ms: int  # epoch ms when a refused request would be allowed; reset_ms when allowed


def position(now_ms: int, window_ms: int) -> tuple[int, int]:
    """(index of the fixed window holding `now_ms`, ms elapsed in it)."""
    index = now_ms // window_ms
    return index, now_ms - index * window_ms


def roll(
    stored: int | None, current: int, previous: int, index: int, elapsed: int
) -> tuple[int, int, int, int]:
    """A state stored for window `stored` seen from window `index`: (index, elapsed, current,
    previous). A stored window ahead of the request's (another process' clock runs ahead) is
    treated as just begun, so a late clock never sees counts it cannot weigh."""
    if stored is None:
        return index, elapsed, 0, 0
    if stored > index:
        return stored, 0, current, previous
    if stored == index:
        return index, elapsed, current, previous
    if stored == index - 1:
        return index, elapsed, 0, current
    return index, elapsed, 0, 0


def admits(limit: int, window_ms: int, elapsed: int, current: int, previous: int) -> bool:
    """previous * (W - elapsed) / W + current + 1 <= limit, multiplied through by W."""
    return previous * (window_ms - elapsed) + (current + 1) * window_ms <= limit * window_ms


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _room_at(limit: int, window_ms: int, counted: Counted, need: int) -> int:
    """The first epoch ms at which the weighted count leaves room for `need` more requests
    (nothing more counted meanwhile). At most two windows ahead: by then both are empty."""
    index, elapsed, current, previous = counted[1:]
    start = index * window_ms
    # This window: previous * (W - e) <= (limit - current - need) * W.
    budget = (limit - current - need) * window_ms
    if budget >= 0:
        if previous == 0:
            return start + elapsed
        at = window_ms - budget // previous
        if at < window_ms:
            return start + max(at, elapsed)
    # The next window: the current count becomes the previous one, weighing current * (W - e).
    budget = (limit - need) * window_ms
    if current == 0:
        return start + window_ms
    return start + window_ms + max(0, window_ms - budget // current)


def outcome(limit: int, window_ms: int, counted: Counted, now_ms: int) -> Outcome:
    _, elapsed, current, previous = counted[1:]
    room = limit * window_ms - previous * (window_ms - elapsed) - current * window_ms
    remaining = min(limit, max(0, room // window_ms))
    if remaining >= limit:
        return Outcome(limit, now_ms, now_ms)
    reset_ms = max(now_ms, _room_at(limit, window_ms, counted, remaining + 1))
    if counted.allowed:
        return Outcome(remaining, reset_ms, reset_ms)
    return Outcome(remaining, reset_ms, max(now_ms, _room_at(limit, window_ms, counted, 1)))
