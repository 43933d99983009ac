"""The in-process scheduler: inside `quantdesk serve`, enqueues each scheduled job when its cron
fires (what Celery beat does in the distributed mode).

Missed ticks are not caught up: after a pause (laptop asleep, clock jump) each job fires once
and continues from its next regular time, rather than in a burst. Every server process runs its
own scheduler, so run one API process (or the Celery mode) when scaling out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from quantdesk.jobs.runner import JobRunner
from quantdesk.jobs.schedule import ScheduleEntry
from quantdesk.models import utcnow
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
# Wake at least this often, so a changed wall clock (or a DST shift) is noticed soon.
MAX_SLEEP_SECONDS = 60.0


@dataclass
class _Planned:
    entry: ScheduleEntry
    next_at: datetime


class Scheduler:
    def __init__(
        self,
        runner: JobRunner,
        entries: Sequence[ScheduleEntry],
        *,
        clock: Clock = utcnow,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.runner = runner
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._plan = [_Planned(entry, entry.cron.next_after(now)) for entry in entries]
        self._task: asyncio.Task[None] | None = None

    def upcoming(self) -> list[tuple[str, str, datetime]]:
        """(job, cron, next fire time) for each scheduled job."""
        return [(p.entry.name, p.entry.cron.expression, p.next_at) for p in self._plan]

    async def tick(self) -> list[str]:
        """Enqueue every job whose time has come; returns their names."""
        now = self._clock()
        fired: list[str] = []
        for planned in self._plan:
            if planned.next_at > now:
                continue
            planned.next_at = planned.entry.cron.next_after(now)
            try:
                await self.runner.enqueue(planned.entry.name)
            except Exception as error:  # one job that cannot be queued must not stop the rest
                log.error("scheduled job not enqueued", job=planned.entry.name, error=str(error))
                continue
            fired.append(planned.entry.name)
        return fired

    def seconds_to_next(self) -> float:
        if not self._plan:
            return MAX_SLEEP_SECONDS
        soonest = min(p.next_at for p in self._plan)
        return min(max((soonest - self._clock()).total_seconds(), 0.0), MAX_SLEEP_SECONDS)

    async def run(self) -> None:
        while True:
            await self.tick()
            await self._sleep(self.seconds_to_next())

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="quantdesk-job-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
