"""The bus for code that runs outside a request (jobs, background runs): the serving app's
when it runs in the app's process (installed), else one built from settings for a Celery worker
with the Redis backend (so API replicas receive the events), closed when the work ends; else
None (the memory bus of a worker process reaches nobody). `emit()` takes None: transactional
hooks still run, nothing is published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from quantdesk.config import Settings
from quantdesk.infra.events.build import build_event_bus
from quantdesk.infra.events.bus import EventBus
from quantdesk.infra.events.installed import installed_event_bus


@asynccontextmanager
async def background_event_bus(settings: Settings) -> AsyncIterator[EventBus | None]:
    installed = installed_event_bus()
    if installed is not None or settings.events_backend != "redis":
        yield installed
        return
    bus = build_event_bus(settings)
    try:
        yield bus
    finally:
        await bus.aclose()
