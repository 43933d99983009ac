"""build_event_bus: the event bus the settings ask for."""

from __future__ import annotations

from quantdesk.config import ConfigError, Settings
from quantdesk.infra.events.bus import EventBus
from quantdesk.infra.events.memory import MemoryEventBus
from quantdesk.infra.events.redis_bus import RedisEventBus


def build_event_bus(settings: Settings) -> EventBus:
    """`QUANTDESK_EVENTS_BACKEND`: memory (default) or redis (needs QUANTDESK_REDIS_URL).
    Nothing connects until the first publish or subscribe; close it with `aclose()`."""
    if settings.events_backend == "redis":
        if not settings.redis_url:
            raise ConfigError("QUANTDESK_EVENTS_BACKEND=redis needs QUANTDESK_REDIS_URL")
        return RedisEventBus(
            settings.redis_url,
            queue_size=settings.events_queue_size,
            stream_length=settings.events_stream_length,
            stream_ttl_seconds=settings.events_stream_ttl_seconds,
        )
    return MemoryEventBus(queue_size=settings.events_queue_size)
