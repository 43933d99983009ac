"""The Redis bus's event log: one sequence per topic shared by every process, and a capped
Redis stream per topic to replay from (docs/events.md, "Sequence numbers and the event log").

Publishing runs PUBLISH_SCRIPT, one atomic step per event: read (or create) the epoch,
`HINCRBY` the topic's counter, `XADD` the envelope (carrying `seq` and `epoch`) under the ID
`0-<seq>` to the topic's stream capped with `MAXLEN ~ <length>`, refresh the stream's expiry,
and `PUBLISH` the same envelope. Every subscriber thus sees the number the log holds the event
under, and a reader that subscribed first and then reads the log can dedupe by `seq`.

Keys (under the bus's prefix, `quantdesk:events:` by default):
- `seq`: a hash of topic -> last seq, plus the field `!epoch` (a random id set once). Keeping
  the epoch and the counters in one key means they vanish together (FLUSHALL, eviction): the
  next publish starts a new epoch at seq 1 and a reader holding the old epoch gets a gap, never
  another epoch's events under the same numbers.
- `log:<epoch>:<topic>`: the topic's stream in that epoch (streams of an old epoch expire).

The scripts build the stream key from the epoch they read, so they assume a single Redis (not
a cluster), like the bus's pub/sub does.
"""

from __future__ import annotations

from typing import Any

from quantdesk.infra.events.bus import LogSlice
from quantdesk.infra.events.event import Event

EPOCH_FIELD = "!epoch"  # `!` never appears in a topic

# KEYS[1] the seq hash. ARGV: 1 a fresh epoch (used if none is set), 2 topic, 3 the envelope
# without its closing brace, 4 stream length, 5 stream TTL (ms), 6 pub/sub channel,
# 7 stream key prefix. Answers {subscribers reached, seq}.
PUBLISH_SCRIPT = """
local epoch = redis.call('HGET', KEYS[1], '!epoch')
if not epoch then
  redis.call('HSET', KEYS[1], '!epoch', ARGV[1])
  epoch = ARGV[1]
end
local seq = redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
local msg = ARGV[3] .. ',"seq":' .. seq .. ',"epoch":"' .. epoch .. '"}'
local stream = ARGV[7] .. epoch .. ':' .. ARGV[2]
local added = redis.pcall('XADD', stream, 'MAXLEN', '~', ARGV[4], '0-' .. seq, 'e', msg)
if type(added) == 'table' and added.err then
  -- the stream holds higher ids than the counter (a counter deleted by hand): start it over
  redis.call('DEL', stream)
  redis.call('XADD', stream, 'MAXLEN', '~', ARGV[4], '0-' .. seq, 'e', msg)
end
redis.call('PEXPIRE', stream, ARGV[5])
return {redis.call('PUBLISH', ARGV[6], msg), seq}
"""

# KEYS[1] the seq hash. ARGV: 1 a fresh epoch, 2 topic ('' for the epoch alone), 3 the first
# seq wanted, 4 count, 5 stream key prefix. Answers {epoch, last seq, newest entries first}.
READ_SCRIPT = """
local epoch = redis.call('HGET', KEYS[1], '!epoch')
if not epoch then
  redis.call('HSET', KEYS[1], '!epoch', ARGV[1])
  epoch = ARGV[1]
end
if ARGV[2] == '' then
  return {epoch, 0, {}}
end
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
local entries = {}
if tonumber(ARGV[4]) > 0 and tonumber(ARGV[3]) <= last then
  entries = redis.call(
    'XREVRANGE', ARGV[5] .. epoch .. ':' .. ARGV[2], '+', '0-' .. ARGV[3], 'COUNT', ARGV[4])
end
return {epoch, last, entries}
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def parse_read(answer: Any) -> LogSlice:
    """READ_SCRIPT's answer as a LogSlice (events oldest first; undecodable entries skipped)."""
    epoch, last, entries = answer
    events: list[Event] = []
    for _id, fields in reversed(entries):
        values = dict(zip(fields[::2], fields[1::2], strict=True))
        raw = values.get(b"e", values.get("e"))
        if raw is None:
            continue
        try:
            events.append(Event.from_json(raw))
        except (ValueError, TypeError):
            continue
    return LogSlice(_text(epoch), int(last), events)
