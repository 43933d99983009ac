"""`since_seq` replays from the bus's event log (Redis mode; docs/realtime.md, "Recovery").

With the Redis bus every event arrives numbered (`Event.seq`, one sequence per topic for every
replica) and the recent ones stay in a Redis stream, so a client can resume on any replica.
The subscription is indexed first, then the log is read: frames the hub dispatches to the
client meanwhile are *held*; once the backlog is queued, the held frames numbered after it
follow, and later live frames numbered at or below the backlog's last (published before the
read, dispatched after it) are dropped. The client sees each seq once, in order, no hole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from quantdesk.infra.events import EventLog, LogSlice
from quantdesk.infra.events.catalog import public_event_name
from quantdesk.observability.logging import get_logger
from quantdesk.realtime.client import Client
from quantdesk.realtime.protocol import event_frame, now_iso
from quantdesk.realtime.routing import stream_topic

log = get_logger("quantdesk.realtime")

GapFrame = Callable[[str, int, int | None, int, str], bytes]


class Pending:
    """One client's resume of one stream: frames held until the backlog is queued, then the
    last seq the backlog covered (`floor`)."""

    __slots__ = ("floor", "held")

    def __init__(self) -> None:
        self.held: list[tuple[int, bytes]] = []
        self.floor: int | None = None


class LogResume:
    def __init__(self, log_: EventLog, limit: int, gap: GapFrame) -> None:
        self.log = log_
        self.limit = limit  # frames replayed per stream at most (the newest)
        self._gap = gap
        self.waiting: dict[str, dict[Client, Pending]] = {}  # stream -> resuming clients
        self.tasks: set[asyncio.Task[None]] = set()

    def intercept(
        self, waiting: dict[Client, Pending], client: Client, seq: int, frame: bytes
    ) -> bool:
        """Whether a live frame for a resuming client is held or dropped (True) rather than
        offered (False). Called by the hub's dispatch for the streams in `waiting`."""
        pending = waiting.get(client)
        if pending is None:
            return False
        if pending.floor is None:
            pending.held.append((seq, frame))
            return True
        if seq <= pending.floor:
            return True  # the backlog had it
        del waiting[client]
        return False

    def begin(
        self,
        client: Client,
        afters: dict[str, int],
        epoch: str | None,
        check: Callable[[str], Awaitable[bool]],
    ) -> None:
        """Hold the streams' live frames for `client`, then read their backlogs in a task
        (`check(stream)`: whether the client may read that stream's log)."""
        for name in afters:
            self.waiting.setdefault(name, {})[client] = Pending()
        if not afters:
            return
        task = asyncio.create_task(self._run(client, afters, epoch, check), name="realtime:resume")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(
        self,
        client: Client,
        afters: dict[str, int],
        epoch: str | None,
        check: Callable[[str], Awaitable[bool]],
    ) -> None:
        for name, after in afters.items():
            frames: list[bytes] = []
            floor = 0
            try:
                if await check(name):
                    found = await self.log.read_log(stream_topic(name), after, self.limit)
                    frames, floor = self._frames(name, after, epoch, found)
            except Exception as exc:  # Redis unreachable: say so with a gap, carry on live
                log.warning("realtime.resume_failed", stream=name, error=repr(exc))
                frames = [self._gap(name, after, None, 0, epoch or "")]
            self._release(client, name, frames, floor)

    def _frames(
        self, name: str, after: int, epoch: str | None, found: LogSlice
    ) -> tuple[list[bytes], int]:
        last = found.last_seq
        if (epoch is not None and epoch != found.epoch) or after > last:
            return [self._gap(name, after, None, last, found.epoch)], 0
        frames: list[bytes] = []
        first = found.events[0].seq if found.events else last + 1
        if first is not None and after + 1 < first:
            frames.append(self._gap(name, after, first - 1, last, found.epoch))
        stamp = now_iso()
        for event in found.events:
            if event.seq is not None and event.seq > after:
                data = event.payload.to_dict()
                frames.append(event_frame(public_event_name(event), name, event.seq, data, stamp))
        return frames, last

    def _release(self, client: Client, name: str, frames: list[bytes], floor: int) -> None:
        """Queue the backlog, then the held frames after it (no await: dispatch cannot run
        in between)."""
        waiting = self.waiting.get(name)
        pending = waiting.get(client) if waiting is not None else None
        if waiting is None or pending is None:
            return  # the client left meanwhile
        for frame in frames:
            client.offer_now(frame)
        passed = False
        for seq, frame in pending.held:
            if seq > floor:
                client.offer_now(frame)
                floor, passed = seq, True
        pending.held = []
        if passed:  # live frames come in seq order: every later one is newer
            del waiting[client]
        else:
            pending.floor = floor
        if not waiting:
            self.waiting.pop(name, None)

    def forget(self, client: Client) -> None:
        for name, waiting in list(self.waiting.items()):
            waiting.pop(client, None)
            if not waiting:
                del self.waiting[name]

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
