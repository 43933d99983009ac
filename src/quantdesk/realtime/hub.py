"""The per-process hub: listens on the event bus, numbers each stream's events, keeps a
bounded replay buffer per stream and fans each frame out to the connections subscribed to it.

Sequencing (docs/realtime.md, "Sequence numbers"): `seq` counts the events of one stream
(`quotes:GOOG`, `orders:<account_id>`, ...); every subscriber of the stream sees the same
numbers, so a frame is encoded once and shared. With the memory bus the hub numbers them,
from 1 when it starts, under a random `epoch` of its own, and replays from its memory. With
the Redis bus the events arrive numbered by Redis (one sequence per topic for every replica,
`Event.seq`, under Redis's epoch) and `since_seq` replays from Redis (resume.py), so a client
may resume on any replica. A `since_seq` from another epoch gets a gap, never wrong events.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable

from sqlalchemy import select

# Payload types decoded from Redis must be registered in this process; the domains' are
# imported with their routers, the jobs runner's only here.
import quantdesk.jobs.events  # noqa: F401
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import Event, EventBus, EventLog, Subscription
from quantdesk.infra.events.catalog import public_event_name
from quantdesk.models.portfolio import PaperAccount
from quantdesk.observability.logging import get_logger
from quantdesk.realtime import metrics
from quantdesk.realtime.client import Client
from quantdesk.realtime.protocol import ALL, encode, event_frame, now_iso
from quantdesk.realtime.resume import LogResume
from quantdesk.realtime.routing import ADMIN_ONLY, BUS_PREFIXES, Route, route, stream_route

log = get_logger("quantdesk.realtime")

OwnerLookup = Callable[[str], Awaitable[int | None]]


class Stream:
    __slots__ = ("buffer", "route", "seq")

    def __init__(self, route: Route, size: int) -> None:
        self.route = route
        self.seq = 0
        self.buffer: deque[tuple[int, bytes]] = deque(maxlen=size)


class Hub:
    def __init__(
        self,
        bus: EventBus,
        settings: Settings,
        owner_of_account: OwnerLookup,
        *,
        bus_queue_size: int = 100_000,
    ) -> None:
        self.bus = bus
        self.settings = settings
        self.epoch = secrets.token_hex(4)
        self.streams: dict[str, Stream] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()  # streams holding a buffer
        self.index: dict[tuple[str, str], set[Client]] = {}
        self.connections: dict[str, int] = {}  # per user (or guest IP)
        self.clients: set[Client] = set()
        self.delivered = 0
        self._owner_of_account = owner_of_account
        self._owners: dict[str, int | None] = {}
        self._bus_queue_size = bus_queue_size
        self._subscriptions: list[Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        # The Redis bus numbers events and keeps them: replays read them back from there.
        self.resume: LogResume | None = None
        if isinstance(bus, EventLog):
            self.resume = LogResume(bus, settings.realtime_replay_buffer, self._gap)

    def bus_down_seconds(self) -> float:
        """How long the hub's event-bus subscription has been down (0 while connected; the
        memory bus never is). The Redis bus resubscribes by itself."""
        since: float | None = getattr(self.bus, "down_since", None)
        return 0.0 if since is None else time.monotonic() - since

    async def start(self) -> None:
        if self.resume is not None:
            try:
                self.epoch = await self.resume.log.log_epoch()
            except Exception as exc:  # Redis down: the first event or replay brings it
                log.warning("realtime.epoch_unknown", error=repr(exc))
        for prefix in BUS_PREFIXES:
            sub = await self.bus.subscribe(prefix, maxsize=self._bus_queue_size)
            self._subscriptions.append(sub)
            self._tasks.append(asyncio.create_task(self._pump(sub), name=f"realtime:{prefix}"))

    async def stop(self) -> None:
        for client in list(self.clients):
            client.shut(1001, "server shutting down")
        if self.resume is not None:
            await self.resume.stop()
        for sub in self._subscriptions:
            await sub.aclose()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._subscriptions.clear()

    async def _pump(self, sub: Subscription) -> None:
        while True:
            event: Event | None = await sub.get()
            # Drain what is already buffered without yielding between events (one wake-up).
            while event is not None:
                try:
                    await self.dispatch(event)
                except Exception as exc:  # one bad event never stops the stream
                    log.warning("realtime.dispatch_failed", topic=event.topic, error=repr(exc))
                event = sub.get_nowait()

    # -- connections ------------------------------------------------------------------------

    def admit(self, client: Client) -> bool:
        """Count a new connection against its user's cap; False when the cap is reached."""
        count = self.connections.get(client.conn_key, 0)
        if count >= self.settings.realtime_max_connections_per_user:
            return False
        self.connections[client.conn_key] = count + 1
        self.clients.add(client)
        metrics.WS_CONNECTIONS.inc()
        return True

    def leave(self, client: Client) -> None:
        if client not in self.clients:
            return
        self.clients.discard(client)
        if self.resume is not None:
            self.resume.forget(client)
        for key in list(client.subscriptions):
            self._unindex(client, key)
        client.subscriptions.clear()
        left = self.connections.get(client.conn_key, 1) - 1
        if left > 0:
            self.connections[client.conn_key] = left
        else:
            self.connections.pop(client.conn_key, None)
        metrics.WS_CONNECTIONS.dec()

    def subscribe(self, client: Client, key: tuple[str, str]) -> bool:
        """Index the client under (channel, key); False when it already was."""
        if key in client.subscriptions:
            return False
        client.subscriptions.add(key)
        self.index.setdefault(key, set()).add(client)
        metrics.WS_SUBSCRIPTIONS.inc()
        return True

    def unsubscribe(self, client: Client, key: tuple[str, str]) -> bool:
        if key not in client.subscriptions:
            return False
        client.subscriptions.discard(key)
        self._unindex(client, key)
        return True

    def _unindex(self, client: Client, key: tuple[str, str]) -> None:
        members = self.index.get(key)
        if members is not None and client in members:
            members.discard(client)
            metrics.WS_SUBSCRIPTIONS.dec()
            if not members:
                del self.index[key]

    # -- events -----------------------------------------------------------------------------

    async def _owner(self, account_id: str) -> str | None:
        if account_id not in self._owners:
            self._owners[account_id] = await self._owner_of_account(account_id)
        owner = self._owners[account_id]
        return None if owner is None else str(owner)

    async def dispatch(self, event: Event) -> int:
        """Number, buffer and fan out one bus event; answers how many clients it reached."""
        found = route(event)
        if found is None:
            return 0
        started = time.perf_counter()
        key = found.key
        if found.channel == "orders":
            owner = await self._owner(key)
            if owner is None:
                return 0
            key = owner
        stream = self.streams.get(found.stream)
        if stream is None:
            stream = self.streams[found.stream] = Stream(
                found, self.settings.realtime_replay_buffer
            )
        seq = event.seq
        if seq is None:  # the memory bus: this hub numbers the stream and keeps its frames
            stream.seq += 1
            seq = stream.seq
        else:  # the Redis bus: the number every replica shares
            stream.seq = seq
            if event.epoch is not None:
                self.epoch = event.epoch
        frame = event_frame(
            public_event_name(event), found.stream, seq, event.payload.to_dict(), now_iso()
        )
        if event.seq is None:
            self._buffer(found.stream, stream, frame)
        resume = self.resume
        waiting = resume.waiting.get(found.stream) if resume and resume.waiting else None
        index = self.index
        reached = 0
        targets = index.get((found.channel, ALL))
        if key != ADMIN_ONLY:
            exact = index.get((found.channel, key))
            if exact:
                targets = exact if not targets else exact | targets
        if targets:
            for client in tuple(targets):
                if waiting and resume and resume.intercept(waiting, client, seq, frame):
                    continue  # resuming: held until its backlog is queued, or a duplicate
                if client.offer(frame):
                    reached += 1
                else:
                    self.leave(client)
        self.delivered += reached
        metrics.WS_FANOUT_SECONDS.observe(time.perf_counter() - started)
        return reached

    def _buffer(self, name: str, stream: Stream, frame: bytes) -> None:
        """Keep the frame for `since_seq` replays: the streams published to most recently
        keep their buffers (`realtime_replay_streams` of them); an evicted stream keeps its
        numbering, and a replay from it answers a gap."""
        if not self.settings.realtime_replay_buffer:
            return
        stream.buffer.append((stream.seq, frame))
        recent = self._recent
        recent[name] = None
        recent.move_to_end(name)
        while len(recent) > self.settings.realtime_replay_streams:
            evicted, _ = recent.popitem(last=False)
            self.streams[evicted].buffer.clear()

    def replay(
        self,
        client: Client,
        key: tuple[str, str],
        since: int | dict[str, int],
        epoch: str | None,
    ) -> None:
        """Queue the buffered frames after `since` of every stream (channel, key) covers, or a
        `gap` frame for a stream whose missing frames are no longer (or never were) here."""
        if self.resume is not None:
            self._replay_log(client, key, since, epoch)
            return
        channel, wanted = key
        for name, stream in list(self.streams.items()):
            if stream.route.channel != channel:
                continue
            owner = stream.route.key
            if channel == "orders":
                owner = str(self._owners.get(owner))
            if wanted != ALL and owner != wanted:
                continue
            after = since.get(name) if isinstance(since, dict) else since
            if after is None:
                continue
            first = stream.buffer[0][0] if stream.buffer else stream.seq + 1
            if (epoch is not None and epoch != self.epoch) or after > stream.seq:
                client.offer_now(self._gap(name, after, None, stream.seq))
                continue
            if after + 1 < first:
                client.offer_now(self._gap(name, after, first - 1, stream.seq))
            for seq, frame in stream.buffer:
                if seq > after:
                    client.offer_now(frame)
        if isinstance(since, dict):  # streams this hub has never carried
            for name, after in since.items():
                if name not in self.streams and after > 0 and name.startswith(channel + ":"):
                    client.offer_now(self._gap(name, after, None, 0))

    def _replay_log(
        self,
        client: Client,
        key: tuple[str, str],
        since: int | dict[str, int],
        epoch: str | None,
    ) -> None:
        """Replay from the Redis log: the streams named in `since` (an object), or (a number)
        the key's own streams plus those of the key this hub has carried."""
        channel, wanted = key
        if isinstance(since, dict):
            names = set(since)
        else:
            names = {n for n, s in self.streams.items() if s.route.channel == channel}
            if wanted != ALL and channel in ("quotes", "signals", "news", "alerts"):
                names.add(f"{channel}:{wanted}")
            elif wanted != ALL and channel == "jobs":
                names |= {f"jobs:backtests:{wanted}", f"jobs:exports:{wanted}"}
        afters: dict[str, int] = {}
        for name in sorted(names):
            found = stream_route(name)
            if found is None or found.channel != channel:
                continue
            if channel != "orders" and wanted != ALL and found.key != wanted:
                continue
            unowned = str(self._owners.get(found.key)) != wanted
            if channel == "orders" and not isinstance(since, dict) and unowned:
                continue
            afters[name] = since[name] if isinstance(since, dict) else since

        async def check(name: str) -> bool:
            found = stream_route(name)
            if found is None or found.channel != "orders":
                return True
            return await self._owner(found.key) == wanted

        assert self.resume is not None
        self.resume.begin(client, afters, epoch, check)

    def _gap(
        self, stream: str, after: int, until: int | None, last: int, epoch: str | None = None
    ) -> bytes:
        return encode(
            {
                "type": "gap",
                "channel": stream,
                "since_seq": after,
                "missing_until": until,  # None: unknown (another epoch, or beyond this hub)
                "last_seq": last,
                "epoch": epoch or self.epoch,
                "timestamp": now_iso(),
            }
        )


def account_owner_lookup(db: Database) -> OwnerLookup:
    """account id -> owning user id, from the database (the hub caches the answers)."""

    async def lookup(account_id: str) -> int | None:
        async with db.session() as session:
            return await session.scalar(
                select(PaperAccount.user_id).where(PaperAccount.id == account_id)
            )

    return lookup
