"""Sliding-window counters in Redis: one EVALSHA per request, O(1) work and memory per key.

The script is `roll` then `admits` of ratelimit/window.py, line by line, on a hash holding
the window index and the two counts (`w`, `c`, `p`); an allowed request writes the hash back
and sets it to expire after two windows. The caller's clock is used (passed as the window
index and the milliseconds elapsed in it), so every store reaches the same decision from the
same reading; processes whose clocks disagree by d ms disagree on the weighting by d / W.

redis-py loads the script on first use (`NOSCRIPT` answers `SCRIPT LOAD`, then `EVALSHA`
again) and calls it by its SHA after that.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio

from quantdesk.ratelimit.window import Counted

# KEYS[1]: the key's hash. ARGV: limit, window ms, window index, ms elapsed in it.
# Returns {allowed (0/1), index, elapsed, current, previous}, all integers.
SLIDING_WINDOW_LUA = """
local limit, size = tonumber(ARGV[1]), tonumber(ARGV[2])
local index, elapsed = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local stored, current, previous = tonumber(state[1]), 0, 0
if stored then
  current, previous = tonumber(state[2]), tonumber(state[3])
  if stored > index then
    index, elapsed = stored, 0
  elseif stored == index - 1 then
    current, previous = 0, current
  elseif stored < index then
    current, previous = 0, 0
  end
end
if previous * (size - elapsed) + (current + 1) * size > limit * size then
  return {0, index, elapsed, current, previous}
end
current = current + 1
redis.call('HSET', KEYS[1], 'w', index, 'c', current, 'p', previous)
redis.call('PEXPIRE', KEYS[1], size * 2)
return {1, index, elapsed, current, previous}
"""

# Not the `limits` library's namespace: its moving windows are lists under `<prefix>:LIMITER/`,
# and a hash script must never meet one of those keys (WRONGTYPE) during a rolling upgrade.
KEY_INFIX = ":sw:"


class RedisCounters:
    """`hit` counts one request on Redis; errors are redis-py's (RateLimitStorage handles them)."""

    __slots__ = ("_prefix", "_script")

    def __init__(self, client: redis.asyncio.Redis, key_prefix: str) -> None:
        self._prefix = key_prefix + KEY_INFIX
        self._script = client.register_script(SLIDING_WINDOW_LUA)

    def key(self, key: str) -> str:
        return self._prefix + key

    async def ahit(self, key: str, limit: int, window_ms: int, index: int, elapsed: int) -> Counted:
        reply: Any = await self._script(
            keys=(self._prefix + key,), args=(limit, window_ms, index, elapsed)
        )
        allowed, index, elapsed, current, previous = reply
        return Counted(allowed == 1, int(index), int(elapsed), int(current), int(previous))
