"""The internal event bus: market events (and, later, fills and alerts) from whoever produces
them to whoever reacts (the paper-trading desk, WebSocket streams, webhooks).

Two implementations behind one `EventBus` interface, chosen by `QUANTDESK_EVENTS_BACKEND` like
the cache (`build_event_bus(settings)`; the lifespan puts it on `AppState.events`):
`MemoryEventBus` (in-process) and `RedisEventBus` (Redis pub/sub, every process). Both run the
same tests (tests/infra/test_events.py).

Design: `publish(topic, payload)` wraps the payload in an `Event(topic, payload)` envelope and
subscribers receive envelopes, so a prefix subscriber knows the exact topic. The envelope is
generic; payload types are registered by name (`register_payload`), which is all a new kind of
event needs. Topics: `market.bar.<SYMBOL>.<timeframe>`, `market.quote.<SYMBOL>`
(`MarketEvent.topic`), `market.replay.<SYMBOL>` (`ReplayStatus`, a replay started or stopped);
a pattern is an exact topic or a prefix ending in `.`.

Delivery semantics (both backends):

- **At-most-once.** Nothing is acknowledged or redelivered: an event published while nobody
  subscribes, while Redis is unreachable, or that a full subscriber buffer drops (oldest first,
  counted in `Subscription.dropped`; the publisher never waits) is gone. The Redis bus also
  numbers each topic's events and keeps the recent ones, for a consumer that asks to read
  them back (`read_log`, redis_log.py: WebSocket `since_seq` replays).
- **Ordered per publisher per topic**: one process's events on one topic arrive in the order it
  published them; nothing orders events from different publishers.
- **Market time, not delivery time.** `MarketEvent.ts` is the bar's open time (or the quote's
  as_of) in Unix seconds. A consumer that needs exactly-once effects (the desk) dedupes by
  `(topic, ts)` and reads missed bars back from the database after a gap.

`MarketProgress` (progress.py) lets a producer wait until the in-process consumers have
finished with an event (a replay at speed 0 never outruns the desk).
"""

from quantdesk.infra.events.build import build_event_bus
from quantdesk.infra.events.bus import EventBus, EventLog, LogSlice
from quantdesk.infra.events.emit import TopicPayload, emit, on_emit, remove_emit_hook
from quantdesk.infra.events.event import (
    Event,
    MarketEvent,
    MarketEventKind,
    MarketEventSource,
    Payload,
    check_pattern,
    check_topic,
    market_topic,
    register_payload,
    topic_matches,
)
from quantdesk.infra.events.installed import install_event_bus, installed_event_bus
from quantdesk.infra.events.memory import MemoryEventBus
from quantdesk.infra.events.progress import MarketProgress, ProgressConsumer
from quantdesk.infra.events.redis_bus import RedisEventBus
from quantdesk.infra.events.replay_status import ReplayState, ReplayStatus, replay_topic
from quantdesk.infra.events.subscription import Subscription, SubscriptionClosed

__all__ = [
    "Event",
    "EventBus",
    "EventLog",
    "LogSlice",
    "MarketEvent",
    "MarketEventKind",
    "MarketEventSource",
    "MarketProgress",
    "MemoryEventBus",
    "Payload",
    "ProgressConsumer",
    "RedisEventBus",
    "ReplayState",
    "ReplayStatus",
    "Subscription",
    "SubscriptionClosed",
    "TopicPayload",
    "build_event_bus",
    "check_pattern",
    "check_topic",
    "emit",
    "install_event_bus",
    "installed_event_bus",
    "market_topic",
    "on_emit",
    "register_payload",
    "remove_emit_hook",
    "replay_topic",
    "topic_matches",
]
