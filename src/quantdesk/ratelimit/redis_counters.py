"""Sliding-window counters in Redis: one EVALSHA per request, O(1) work and memory per key.

The script is `roll` then `admits` of ratelimit/window.py, line by line, on a hash holding
the window index and the two counts (`w`, `c`, `p`). An allowed request in the window the
hash already holds only increments `c` (HINCRBY); the first one of a new window rewrites
the hash and sets it to expire after two windows (it weighs on through the next one). The
caller's clock is used (passed as the window index and the milliseconds elapsed in it), so
every store reaches the same decision from the same reading; processes whose clocks disagree
by d ms disagree on the weighting by d / W.

The script is loaded once (`SCRIPT LOAD`, again only if Redis answers `NOSCRIPT`, e.g. after
SCRIPT FLUSH) and called by its SHA over one pipelined connection per process (ratelimit/
resp.py): calls made in the same event-loop iteration (concurrent requests) go out in one
write. Each request still costs one EVALSHA and waits for one round trip, but Redis reads and
answers a batch with one system call each way instead of one per request, which is most of
what a small command costs it.
"""

from __future__ import annotations

from typing import Any

from quantdesk.ratelimit.resp import NoScriptError, PipelinedConnection, bulks, pack
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
if stored == index then
  redis.call('HINCRBY', KEYS[1], 'c', 1)
else
  redis.call('HSET', KEYS[1], 'w', index, 'c', current, 'p', previous)
  redis.call('PEXPIRE', KEYS[1], size * 2)
end
return {1, index, elapsed, current, previous}
"""

# Not the `limits` library's namespace: its moving windows are lists under `<prefix>:LIMITER/`,
# and a hash script must never meet one of those keys (WRONGTYPE) during a rolling upgrade.
KEY_INFIX = ":sw:"


# EVALSHA <sha> 1 (packed once loaded), then the key and the four numbers as bulk strings.
_ARGS = b"%s" + b"$%d\r\n%s\r\n" * 5


def _counted(reply: Any) -> Counted:
    allowed, index, elapsed, current, previous = reply
    return allowed == 1, int(index), int(elapsed), int(current), int(previous)


class RedisCounters:
    """`ahit` counts one request on Redis; errors are redis-py's exception types
    (RateLimitStorage handles them)."""

    __slots__ = ("_call_prefix", "_connection", "_prefix")

    def __init__(self, url: str, key_prefix: str, *, timeout_seconds: float) -> None:
        self._connection = PipelinedConnection(url, timeout_seconds=timeout_seconds)
        self._prefix = key_prefix + KEY_INFIX
        self._call_prefix: bytes | None = None  # EVALSHA <sha> 1, packed, once loaded

    def key(self, key: str) -> str:
        return self._prefix + key

    async def ahit(self, key: str, limit: int, window_ms: int, index: int, elapsed: int) -> Counted:
        call = self._call_prefix or await self._load()
        full = (self._prefix + key).encode()
        n = b"%d" % limit, b"%d" % window_ms, b"%d" % index, b"%d" % elapsed
        command = _ARGS % (
            call,
            len(full),
            full,
            len(n[0]),
            n[0],
            len(n[1]),
            n[1],
            len(n[2]),
            n[2],
            len(n[3]),
            n[3],
        )
        try:
            reply = await self._connection.call(command)
        except NoScriptError:  # SCRIPT FLUSH, or another server behind the same address
            call = await self._load()
            reply = await self._connection.call(call + command[len(call) :])
        return _counted(reply)

    async def _load(self) -> bytes:
        sha = await self._connection.call(pack("SCRIPT", "LOAD", SLIDING_WINDOW_LUA))
        if not isinstance(sha, bytes):
            raise NoScriptError(f"SCRIPT LOAD answered {sha!r}")
        self._call_prefix = b"*8\r\n" + bulks("EVALSHA", sha, 1)
        return self._call_prefix

    async def aclose(self) -> None:
        await self._connection.aclose()
