"""Listeners of a market replay's bars: a domain that has something to say about a replayed
bar (signals: the stored signals of that bar) registers `on_replayed_bar(hook)` at import, and
the replay runs `hook(db, bus, event)` after publishing each bar, in the replay's own process
(so several API replicas do not each repeat it). A failing hook is logged, never fatal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from quantdesk.db import Database
from quantdesk.infra.events import EventBus, MarketEvent
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.replay")

ReplayBarHook = Callable[[Database, EventBus, MarketEvent], Awaitable[None]]

_hooks: list[ReplayBarHook] = []


def on_replayed_bar(hook: ReplayBarHook) -> ReplayBarHook:
    """Register `hook` (idempotent; usable as a decorator)."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


async def run_replay_hooks(db: Database, bus: EventBus, event: MarketEvent) -> None:
    for hook in list(_hooks):
        try:
            await hook(db, bus, event)
        except Exception as exc:
            log.warning("replay.hook_failed", hook=getattr(hook, "__name__", "?"), error=repr(exc))
