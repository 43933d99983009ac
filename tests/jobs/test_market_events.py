"""The bars jobs publish what they store as live market events: on the serving app's bus, or
(a Celery worker, nothing installed) on a bus built from the job's settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import MarketEvent, MemoryEventBus, RedisEventBus, install_event_bus
from quantdesk.jobs.inprocess import InProcessRunner
from quantdesk.jobs.registry import JobContext, get_task
from quantdesk.tasks import load_tasks
from tests.support.events import buffered, next_event, settle
from tests.support.factories import create_instrument, load_bars, synthetic_bars
from tests.support.jobs import write_bars_csv
from tests.support.servers import RedisProcess


@pytest.fixture
def app_bus() -> Iterator[MemoryEventBus]:
    """The bus a serving app installs for its in-process jobs."""
    bus = MemoryEventBus()
    install_event_bus(bus)
    try:
        yield bus
    finally:
        install_event_bus(None)


async def test_fetch_bars_publishes_the_new_bars_once_in_time_order(
    runner: InProcessRunner, jobs_db: Database, bars_dir: Path, app_bus: MemoryEventBus
) -> None:
    await create_instrument(jobs_db, "TEST")
    history = synthetic_bars(40)
    await load_bars(jobs_db, "TEST", history.slice(0, 30))
    write_bars_csv(bars_dir, "TEST", "1d", history.slice(25, 40))  # 5 stored, 10 new
    async with await app_bus.subscribe("market.") as subscription:
        await runner.enqueue("marketdata.fetch_bars")
        await runner.drain()
        await settle()
        events = [event.payload for event in buffered(subscription)]
        assert [e.ts for e in events if isinstance(e, MarketEvent)] == history.ts[30:].tolist()
        first = events[0]
        assert isinstance(first, MarketEvent)
        assert (first.kind, first.symbol, first.timeframe, first.source) == (
            "bar",
            "TEST",
            "1d",
            "live",
        )
        assert first.close == history.close[30] and first.volume == history.volume[30]
        assert {event.topic for event in buffered(subscription)} <= {"market.bar.TEST.1d"}

        await runner.enqueue("marketdata.fetch_bars")  # the same file again: nothing new
        await runner.drain()
        await settle()
        assert buffered(subscription) == []


@pytest.mark.redis
async def test_a_worker_job_publishes_on_a_bus_built_from_its_settings(
    jobs_db: Database, job_settings: Settings, bars_dir: Path, redis_process: RedisProcess
) -> None:
    """No bus installed (a Celery worker): the job builds one from its settings, here Redis,
    so a subscriber in another process (the API's desk) receives the bars."""
    await create_instrument(jobs_db, "TEST")
    history = synthetic_bars(12)
    await load_bars(jobs_db, "TEST", history.slice(0, 10))
    write_bars_csv(bars_dir, "TEST", "1d", history.slice(10, 12))
    settings = job_settings.model_copy(
        update={
            "events_backend": "redis",
            "redis_url": redis_process.url,
            "jobs_signals_after_bars": False,
        }
    )
    listener = RedisEventBus(redis_process.url)
    load_tasks()

    async def no_follow_ups(*args: object, **kwargs: object) -> None:
        raise AssertionError("no follow-up job expected")

    context = JobContext(
        db=jobs_db,
        settings=settings,
        name="marketdata.fetch_bars",
        task_id=uuid.uuid4().hex,
        attempt=1,
        enqueue=no_follow_ups,
    )
    try:
        async with await listener.subscribe("market.bar.TEST.1d") as subscription:
            await get_task("marketdata.fetch_bars").fn(context)
            received = [(await next_event(subscription)).payload for _ in range(2)]
    finally:
        await listener.aclose()
    assert [event.ts for event in received if isinstance(event, MarketEvent)] == (
        history.ts[10:].tolist()
    )
