"""Redis event bus (distributed mode): Redis pub/sub, so every process sees every event.

Channels are `<channel_prefix><topic>`. Publishing goes through one dedicated connection
(commands queue on it in call order, so one process's events keep their order per topic). Each
subscription holds its own connection and reader task: SUBSCRIBE for an exact topic, PSUBSCRIBE
`<prefix>*` (glob-escaped) for a prefix; the reader decodes each message into its subscription's
buffer (subscription.py's overflow policy applies).

Every event is numbered per topic in Redis and kept in a capped per-topic Redis stream
(redis_log.py): the envelope each subscriber receives carries `seq` and `epoch`, and
`read_log` reads a topic's recent events back (WebSocket `since_seq` replays on any replica).

Failures never reach the caller. A publish that cannot reach Redis is logged and answers 0 (the
event is lost: at-most-once). A reader that loses its connection logs it, reconnects with
capped exponential backoff and subscribes again; events published meanwhile are lost. A health
check PING every `health_check_seconds` makes a silently dead connection fail too. A message
that does not decode is logged and skipped.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time

import redis.asyncio
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from quantdesk.infra.events.bus import LogSlice
from quantdesk.infra.events.event import Event, Payload, check_topic, is_prefix
from quantdesk.infra.events.redis_log import PUBLISH_SCRIPT, READ_SCRIPT, parse_read
from quantdesk.infra.events.subscription import Subscription
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.events")

REDIS_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def glob_escape(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class RedisEventBus:
    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 1_000,
        channel_prefix: str = "quantdesk:events:",
        timeout_seconds: float = 2.0,
        health_check_seconds: float = 15.0,
        reconnect_initial_seconds: float = 0.1,
        reconnect_max_seconds: float = 2.0,  # back (and ready) within 2 s of Redis' return
        stream_length: int = 1_000,
        stream_ttl_seconds: float = 3_600.0,
    ) -> None:
        self.queue_size = queue_size
        self.stream_length = stream_length
        self.stream_ttl_ms = max(1, int(stream_ttl_seconds * 1000))
        self._seq_key = channel_prefix + "seq"
        self._log_prefix = channel_prefix + "log:"
        self.channel_prefix = channel_prefix
        self.timeout_seconds = timeout_seconds
        self.reconnect_initial_seconds = reconnect_initial_seconds
        self.reconnect_max_seconds = reconnect_max_seconds
        self.publish_errors = 0
        self.undecodable = 0
        self._pool = redis.asyncio.ConnectionPool.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            socket_keepalive=True,
            health_check_interval=health_check_seconds,
            retry=Retry(NoBackoff(), 1),  # one immediate reconnect, then the error is ours
        )
        self._publisher = redis.asyncio.Redis(
            connection_pool=self._pool, single_connection_client=True
        )
        self._publish_script = self._publisher.register_script(PUBLISH_SCRIPT)
        self._read_script = self._publisher.register_script(READ_SCRIPT)
        self._readers: dict[Subscription, asyncio.Task[None]] = {}
        self._down: dict[Subscription, float] = {}  # subscriptions without Redis, since when
        self._publish_failing = False
        self._closed = False

    @property
    def subscriptions(self) -> int:
        return len(self._readers)

    @property
    def down_since(self) -> float | None:
        """`time.monotonic()` since which some subscription has been without Redis (lost,
        reconnecting), or None while every subscription is connected (readiness probes)."""
        return min(self._down.values(), default=None)

    def channel(self, topic: str) -> str:
        return self.channel_prefix + topic

    async def publish(self, topic: str, payload: Payload) -> int:
        data = Event(check_topic(topic), payload).to_json()
        try:
            answer = await self._publish_script(
                keys=[self._seq_key],
                args=[
                    secrets.token_hex(4),
                    topic,
                    data[:-1],  # the script appends `,"seq":n,"epoch":"..."}`
                    self.stream_length,
                    self.stream_ttl_ms,
                    self.channel(topic),
                    self._log_prefix,
                ],
            )
            reached = int(answer[0])
        except REDIS_ERRORS as exc:
            self.publish_errors += 1
            if not self._publish_failing:
                self._publish_failing = True
                log.warning("events.publish_failed", topic=topic, error=str(exc))
            return 0
        if self._publish_failing:
            self._publish_failing = False
            log.info("events.publish_recovered", errors=self.publish_errors)
        return reached

    async def read_log(self, topic: str, after: int, limit: int) -> LogSlice:
        """At most `limit` of the newest events of `topic` numbered after `after`, with the
        epoch and the topic's last seq (one atomic read); Redis errors are raised."""
        answer = await self._read_script(
            keys=[self._seq_key],
            args=[secrets.token_hex(4), check_topic(topic), after + 1, limit, self._log_prefix],
        )
        return parse_read(answer)

    async def log_epoch(self) -> str:
        """The numbering in force (created when Redis holds none); Redis errors are raised."""
        answer = await self._read_script(
            keys=[self._seq_key], args=[secrets.token_hex(4), "", 0, 0, self._log_prefix]
        )
        return parse_read(answer).epoch

    async def subscribe(self, pattern: str, *, maxsize: int | None = None) -> Subscription:
        if self._closed:
            raise RuntimeError("the event bus is closed")
        subscription = Subscription(pattern, maxsize or self.queue_size, on_close=self._stop)
        first_attempt: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        reader = asyncio.create_task(
            self._read(subscription, first_attempt), name=f"events:{pattern}"
        )
        self._readers[subscription] = reader
        # Active on return when Redis answers; when it does not, the reader keeps trying.
        await asyncio.wait((first_attempt, reader), return_when=asyncio.FIRST_COMPLETED)
        return subscription

    async def _connect(self, subscription: Subscription) -> PubSub:
        pubsub = self._publisher.pubsub()  # its own connection from the pool
        try:
            pattern = subscription.pattern
            if is_prefix(pattern):
                await pubsub.psubscribe(glob_escape(self.channel(pattern)) + "*")
            else:
                await pubsub.subscribe(self.channel(pattern))
            # The confirmation: from here on Redis routes every publish to this connection.
            while True:
                message = await pubsub.get_message(timeout=self.timeout_seconds)
                if message is None:
                    raise TimeoutError("no subscribe confirmation from Redis")
                if message["type"] in ("subscribe", "psubscribe"):
                    return pubsub
        except BaseException:
            await pubsub.aclose()
            raise

    async def _read(self, subscription: Subscription, first_attempt: asyncio.Future[None]) -> None:
        backoff = self.reconnect_initial_seconds
        failing = False
        while not subscription.closed:
            try:
                pubsub = await self._connect(subscription)
            except REDIS_ERRORS as exc:
                self._down.setdefault(subscription, time.monotonic())
                if not first_attempt.done():
                    first_attempt.set_result(None)
                if not failing:
                    failing = True
                    log.warning(
                        "events.subscribe_failed", pattern=subscription.pattern, error=str(exc)
                    )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.reconnect_max_seconds)
                continue
            self._down.pop(subscription, None)
            if failing:
                failing = False
                log.info("events.resubscribed", pattern=subscription.pattern)
            backoff = self.reconnect_initial_seconds
            if not first_attempt.done():
                first_attempt.set_result(None)
            try:
                await self._pump(subscription, pubsub)
            except Exception as exc:  # Redis errors, and anything else: the reader lives on
                self._down.setdefault(subscription, time.monotonic())
                failing = True
                log.warning(
                    "events.subscription_lost",
                    pattern=subscription.pattern,
                    error=f"{type(exc).__name__}: {exc}",
                )
                await asyncio.sleep(backoff)
            finally:
                await pubsub.aclose()

    async def _pump(self, subscription: Subscription, pubsub: PubSub) -> None:
        while not subscription.closed:
            # A bounded wait, so the health-check PING goes out on a quiet connection too.
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=self.timeout_seconds
            )
            if message is None or message["type"] not in ("message", "pmessage"):
                continue
            try:
                event = Event.from_json(message["data"])
            except (ValueError, TypeError) as exc:
                self.undecodable += 1
                log.warning("events.undecodable", pattern=subscription.pattern, error=str(exc))
                continue
            subscription.deliver(event)

    async def _stop(self, subscription: Subscription) -> None:
        self._down.pop(subscription, None)
        task = self._readers.pop(subscription, None)
        if task is None or task is asyncio.current_task():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def aclose(self) -> None:
        self._closed = True
        for subscription in list(self._readers):
            await subscription.aclose()
        await self._publisher.aclose()
        await self._pool.disconnect()
