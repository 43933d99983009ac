"""In-process event bus (embedded mode): a publish is delivered to the matching subscriptions'
buffers before `publish()` returns, in the publisher's order. Only this process sees it, and
only its event loop may publish (a worker thread hands events over with
`asyncio.run_coroutine_threadsafe`)."""

from __future__ import annotations

from quantdesk.infra.events.event import Event, Payload, check_topic, is_prefix
from quantdesk.infra.events.subscription import Subscription


class MemoryEventBus:
    name = "memory"

    def __init__(self, *, queue_size: int = 1_000) -> None:
        self.queue_size = queue_size
        self._exact: dict[str, list[Subscription]] = {}
        self._prefixes: list[Subscription] = []
        self._closed = False

    @property
    def subscriptions(self) -> int:
        return sum(len(subs) for subs in self._exact.values()) + len(self._prefixes)

    async def publish(self, topic: str, payload: Payload) -> int:
        event = Event(check_topic(topic), payload)
        reached = 0
        for subscription in self._exact.get(topic, ()):
            subscription.deliver(event)
            reached += 1
        for subscription in self._prefixes:
            if topic.startswith(subscription.pattern):
                subscription.deliver(event)
                reached += 1
        return reached

    async def subscribe(self, pattern: str, *, maxsize: int | None = None) -> Subscription:
        if self._closed:
            raise RuntimeError("the event bus is closed")
        subscription = Subscription(pattern, maxsize or self.queue_size, on_close=self._forget)
        if is_prefix(pattern):
            self._prefixes.append(subscription)
        else:
            self._exact.setdefault(pattern, []).append(subscription)
        return subscription

    async def _forget(self, subscription: Subscription) -> None:
        if is_prefix(subscription.pattern):
            self._prefixes = [s for s in self._prefixes if s is not subscription]
            return
        remaining = [s for s in self._exact.get(subscription.pattern, ()) if s is not subscription]
        if remaining:
            self._exact[subscription.pattern] = remaining
        else:
            self._exact.pop(subscription.pattern, None)

    async def aclose(self) -> None:
        self._closed = True
        for subscription in [*self._prefixes, *(s for ss in self._exact.values() for s in ss)]:
            await subscription.aclose()
