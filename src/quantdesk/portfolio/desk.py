"""The paper-trading desk: the consumer of market events (docs/paper-trading.md, "Market
time").

Started by the app's lifespan when `QUANTDESK_PAPER_DESK_ENABLED` is on (the default). It
subscribes to the `market.` prefix of the event bus (a large buffer: a replay at full speed
must not lose bars), registers with `AppState.market_progress`, and handles one event at a
time, each in its own database transaction (`desk_apply.apply_event`); after the commit it
publishes the order updates and fired alerts, then marks the event's market time on the
progress object. It marks EVERY market event it receives, also a duplicate or one that
failed: a paced replay must never wait for an event the desk has given up on. A failure is
logged and counted (`Desk.failed`); the desk never stops on one.

A `ReplayStatus` switches the symbol's clock to replay mode (`started`) or back to live
(`stopped`). `Desk.process(payload)` handles one payload directly (tests, the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import (
    EventBus,
    MarketEvent,
    MarketProgress,
    Payload,
    ProgressConsumer,
    ReplayStatus,
    Subscription,
    emit,
)
from quantdesk.observability.logging import get_logger
from quantdesk.portfolio import clock
from quantdesk.portfolio.desk_apply import Applied, apply_event

log = get_logger("quantdesk.desk")

QUEUE_SIZE = 100_000
ATTEMPTS = 3  # a deadlock or a busy database is retried; the clock makes a retry safe


@dataclass(frozen=True, slots=True)
class DeskStats:
    processed: int
    skipped: int
    failed: int
    fills: int


class Desk:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        events: EventBus | None = None,
        progress: MarketProgress | None = None,
    ) -> None:
        self.db, self.settings, self.events, self.progress = db, settings, events, progress
        self.processed = self.skipped = self.failed = self.fills = 0
        self._subscription: Subscription | None = None
        self._consumer: ProgressConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def stats(self) -> DeskStats:
        return DeskStats(self.processed, self.skipped, self.failed, self.fills)

    async def start(self) -> None:
        """Subscribe and start consuming (needs `events`)."""
        if self.events is None:
            raise RuntimeError("the desk needs an event bus to consume")
        size = max(QUEUE_SIZE, self.settings.events_queue_size)
        self._subscription = await self.events.subscribe("market.", maxsize=size)
        if self.progress is not None:
            self._consumer = self.progress.register()
        self._task = asyncio.create_task(self._run(self._subscription), name="paper-desk")
        log.info("desk.started", queue_size=size)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.aclose()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            self._consumer.close()
        self._subscription = self._task = self._consumer = None
        log.info("desk.stopped", **vars_of(self.stats))

    async def _run(self, subscription: Subscription) -> None:
        async for envelope in subscription:
            await self.handle(envelope.payload)

    async def handle(self, payload: Payload) -> None:
        """Process one payload from the bus: never raises (except cancellation), always marks
        a market event's time."""
        try:
            await self.process(payload)
        except Exception as exc:
            self.failed += 1
            log.error(
                "desk.event_failed",
                payload=type(payload).__name__,
                symbol=getattr(payload, "symbol", None),
                ts=getattr(payload, "ts", None),
                error=f"{type(exc).__name__}: {exc}",
            )
        finally:
            if isinstance(payload, MarketEvent) and self._consumer is not None:
                self._consumer.mark(payload.symbol, payload.ts)

    async def process(self, payload: Payload) -> Applied:
        """Apply one market event or replay status (other payloads are ignored) and publish
        what it changed; answers what it did."""
        if isinstance(payload, ReplayStatus):
            async with self.db.session() as session:
                await clock.switch_mode(session, payload)
            log.info(
                "desk.replay", symbol=payload.symbol, state=payload.state, id=payload.replay_id
            )
            return Applied()
        if not isinstance(payload, MarketEvent):
            return Applied()
        applied = await self._apply(payload)
        if applied.skipped:
            self.skipped += 1
            return applied
        self.processed += 1
        self.fills += applied.fills
        if self.events is not None:
            for update in applied.updates:
                await self.events.publish(update.topic, update)
            for alert in applied.alerts:
                await self.events.publish(alert.topic, alert)
        return applied

    async def _apply(self, event: MarketEvent) -> Applied:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.serialized_writes(), self.db.session() as session:
                    applied = await apply_event(session, event, self.settings)
                    # The transactional hooks (webhooks outbox) see them now; the bus gets
                    # them from `process` once this commits.
                    await emit(session, None, [*applied.updates, *applied.alerts])
                    return applied
            except IntegrityError as exc:
                if "paper_fills" not in str(exc):
                    raise
                # A fill of this order on this event exists: another process booked it.
                return Applied()
            except DBAPIError as exc:
                if attempt == ATTEMPTS:
                    raise
                log.warning("desk.retry", symbol=event.symbol, ts=event.ts, error=str(exc))
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")


def vars_of(stats: DeskStats) -> dict[str, int]:
    return {
        "processed": stats.processed,
        "skipped": stats.skipped,
        "failed": stats.failed,
        "fills": stats.fills,
    }
