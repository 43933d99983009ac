"""The serving process's event bus, for code that runs outside a request but inside the app's
process (an in-process job storing new bars publishes them where the desk listens). Installed by
the app's lifespan, like the cache (`quantdesk.infra.cache.install_cache`)."""

from __future__ import annotations

from quantdesk.infra.events.bus import EventBus

_installed: EventBus | None = None


def install_event_bus(bus: EventBus | None) -> None:
    global _installed
    _installed = bus


def installed_event_bus() -> EventBus | None:
    return _installed
