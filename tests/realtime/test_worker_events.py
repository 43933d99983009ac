"""A Celery worker's jobs publish on the Redis bus (QUANTDESK_EVENTS_BACKEND=redis), so what
they emit reaches every API replica's streams: new signals from `signals.generate`."""

from __future__ import annotations

import asyncio
import secrets

from quantdesk.db import Database
from quantdesk.infra.events import RedisEventBus
from quantdesk.jobs.celery_app import create_celery
from quantdesk.signals.events import NewSignal
from quantdesk.tasks import load_tasks
from tests.support.factories import create_instrument, load_bars
from tests.support.realtime import sqlite_only
from tests.support.servers import RedisProcess
from tests.support.settings import make_settings
from tests.support.signals import goog_window

pytestmark = sqlite_only


async def test_signals_generated_by_a_celery_attempt_reach_the_bus(
    database_url: str, redis_process: RedisProcess
) -> None:
    load_tasks()
    symbol = f"W{secrets.token_hex(3).upper()}"  # the session's Redis is shared
    settings = make_settings(database_url, events_backend="redis", redis_url=redis_process.url)
    db = Database(settings)
    listener = RedisEventBus(redis_process.url)
    try:
        await create_instrument(db, symbol)
        await load_bars(db, symbol, goog_window())
        async with await listener.subscribe(f"signals.{symbol}") as sub:
            task = create_celery(settings).tasks["signals.generate"]
            outcome = await asyncio.to_thread(
                task.apply, kwargs={"symbols": [symbol]}, task_id=f"gen-{symbol}"
            )
            assert outcome.successful(), outcome.traceback
            result = outcome.result  # the run's JobResult as JSON
            assert isinstance(result, dict)
            created = result["counts"]["signals_created"]
            assert created >= 2
            events = [await asyncio.wait_for(sub.get(), 5) for _ in range(created)]
        assert all(isinstance(e.payload, NewSignal) for e in events)
        assert {e.payload.symbol for e in events} == {symbol}  # type: ignore[attr-defined]
    finally:
        await listener.aclose()
        await db.dispose()
