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

# Lua numbers are doubles: integers are exact up to here.
EXACT_INTEGER_LIMIT = 2**53

# A key's state in the request's window, after the request was (or was not) counted:
# (allowed, window index, ms elapsed in it, requests counted in it, requests counted in the
# window before). The window is now_ms // window_ms, or a later one (see `roll`). Plain
# tuples, not NamedTuples: this is built on every request, and a NamedTuple costs 3x more.
Counted = tuple[bool, int, int, int, int]
# (remaining, epoch ms when one more slot is free (now when all are), epoch ms when a refused
# request would be allowed (the same as the first when allowed)).
Outcome = tuple[int, int, int]


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


def _room_at(
    limit: int, window_ms: int, start: int, elapsed: int, current: int, previous: int, need: int
) -> int:
    """The first epoch ms at which the weighted count leaves room for `need` more requests
    (nothing more counted meanwhile), in the window starting at `start` or the next one: by
    the end of that one both counts have aged out."""
    # This window: previous * (W - e) <= (limit - current - need) * W.
    budget = (limit - current - need) * window_ms
    if budget >= 0:
        if previous == 0:
            return start + elapsed
        at = window_ms - budget // previous
        if at < window_ms:
            return start + (at if at > elapsed else elapsed)
    # The next window: the current count becomes the previous one, weighing current * (W - e).
    if current == 0:
        return start + window_ms
    at = window_ms - (limit - need) * window_ms // current
    return start + window_ms + (at if at > 0 else 0)


def outcome(limit: int, window_ms: int, counted: Counted, now_ms: int) -> Outcome:
    allowed, index, elapsed, current, previous = counted
    room = limit * window_ms - previous * (window_ms - elapsed) - current * window_ms
    remaining = room // window_ms
    if remaining >= limit:
        return limit, now_ms, now_ms
    if remaining < 0:  # the limit was lowered under existing counts
        remaining = 0
    start = index * window_ms
    reset = _room_at(limit, window_ms, start, elapsed, current, previous, remaining + 1)
    if reset < now_ms:
        reset = now_ms
    if allowed or remaining == 0:  # a refusal leaves no room: its retry is the reset
        return remaining, reset, reset
    retry = _room_at(limit, window_ms, start, elapsed, current, previous, 1)
    return remaining, reset, retry if retry > now_ms else now_ms
