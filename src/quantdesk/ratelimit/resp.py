"""A lean, pipelined Redis connection for the rate limiter's one hot command.

redis-py spends ~80 us of Python per command (connection pool, retry wrapper, command
packing, a line-by-line RESP parser); the limiter sends one small script call per request,
so that would cost more than the rest of a request. This connection does only what that
needs: commands written in the same event-loop iteration go out in one write, replies are
parsed from whole buffers as they arrive and handed to the callers in order (Redis answers
one connection's commands in the order it received them).

It speaks RESP2 to a `redis://`, `rediss://` or `unix://` URL (username, password and
database from the URL: AUTH and SELECT on connect). Errors are redis-py's exception types
(`ConnectionError`, `ResponseError`/`NoScriptError`), so callers handle them like any other
Redis failure. A caller that gives up on a reply older than the timeout (RateLimitStorage's
deadline) drops the connection: the replies queued behind a stuck one cannot be trusted. So
does a connection with calls waiting and no reply for `timeout_seconds` (checked by one timer
per connection, at most every `timeout_seconds`): callers need no timeout of their own.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from typing import Any, cast

from redis.asyncio.connection import SSLConnection, parse_url
from redis.exceptions import ConnectionError, NoScriptError, ResponseError

Reply = int | bytes | str | list[Any] | ResponseError | None


def bulks(*args: bytes | str | int) -> bytes:
    """Arguments as RESP bulk strings (a command's body, without its array header)."""
    parts = []
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def pack(*args: bytes | str | int) -> bytes:
    """One command in RESP: an array of bulk strings."""
    return b"*%d\r\n" % len(args) + bulks(*args)


def _error(message: str) -> ResponseError:
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return ResponseError(message)


class _Incomplete(Exception):
    pass


def _parse(buffer: bytes, at: int) -> tuple[Reply, int]:
    """One reply starting at `at`: (reply, where the next one starts); _Incomplete if the
    buffer ends first."""
    end = buffer.find(b"\r\n", at)
    if end < 0:
        raise _Incomplete
    kind, line = buffer[at : at + 1], buffer[at + 1 : end]
    at = end + 2
    if kind == b":":
        return int(line), at
    if kind == b"*":
        count = int(line)
        if count < 0:
            return None, at
        items: list[Any] = []
        for _ in range(count):
            if buffer[at : at + 1] == b":":  # integers (the script's reply) without recursing
                end = buffer.find(b"\r\n", at)
                if end < 0:
                    raise _Incomplete
                items.append(int(buffer[at + 1 : end]))
                at = end + 2
            else:
                item, at = _parse(buffer, at)
                items.append(item)
        return items, at
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, at
        if len(buffer) < at + size + 2:
            raise _Incomplete
        return buffer[at : at + size], at + size + 2
    if kind == b"+":
        return line.decode(), at
    if kind == b"-":
        return _error(line.decode(errors="replace")), at
    raise ConnectionError(f"unexpected reply from Redis: {buffer[at - 2 : at + 40]!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Reply]] = deque()
        self.buffer = b""
        self.closed = False
        self.out: list[bytes] = []  # commands to write at the end of this loop iteration
        self.replies = 0  # answered so far (the watchdog's sign of life)
        self.watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Without it, a write made while the previous one is unacknowledged waits for
            # Redis' delayed ACK (Nagle): tens of milliseconds per batch.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        buffer, at = self.buffer + data if self.buffer else data, 0
        try:
            while at < len(buffer):
                reply, at = _parse(buffer, at)
                self.replies += 1
                future = self.waiting.popleft()
                if not future.done():  # its caller may have given up
                    future.set_result(reply)
        except _Incomplete:
            pass
        except (ConnectionError, ValueError, IndexError) as exc:
            self._fail(ConnectionError(f"unreadable reply from Redis: {exc}"))
            if self.transport is not None:
                self.transport.abort()
            return
        self.buffer = buffer[at:]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"Redis connection lost: {exc or 'closed'}"))

    def watch(self, seconds: float) -> None:
        """Abort the connection if calls wait `seconds` or more with no reply arriving: a
        per-connection timer instead of one per call (which would cost ~5 us a request)."""
        if self.watchdog is None and not self.closed:
            loop = asyncio.get_running_loop()
            self.watchdog = loop.call_later(seconds, self._check, seconds, self.replies)

    def _check(self, seconds: float, replies_before: int) -> None:
        self.watchdog = None
        if not self.waiting or self.closed:
            return
        if self.replies == replies_before:
            self._fail(ConnectionError(f"Redis answered nothing for {seconds:g} s"))
            if self.transport is not None:
                self.transport.abort()
            return
        self.watch(seconds)

    def _fail(self, error: Exception) -> None:
        self.closed = True
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)


def _flush(protocol: _Protocol) -> None:
    data, protocol.out = b"".join(protocol.out), []
    if protocol.transport is not None and not protocol.closed:
        protocol.transport.write(data)


class PipelinedConnection:
    """One connection, opened on first use and again after it is lost."""

    def __init__(self, url: str, *, timeout_seconds: float) -> None:
        self.options = parse_url(url)
        self.timeout = timeout_seconds
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Task[_Protocol] | None = None

    async def call(self, command: bytes) -> Reply:
        """Send one packed command (see `pack`) and wait for its reply; an error reply is
        raised."""
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await self._connected()
        loop = asyncio.get_running_loop()
        sent = loop.time()
        try:
            reply = await self._send(protocol, command)
        except asyncio.CancelledError:
            if loop.time() - sent >= self.timeout:
                self.abort()
            raise
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    def _send(self, protocol: _Protocol, command: bytes) -> asyncio.Future[Reply]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
        if protocol.closed:
            future.set_exception(ConnectionError("Redis connection lost"))
            return future
        if not protocol.out:
            loop.call_soon(_flush, protocol)
            protocol.watch(self.timeout)
        protocol.out.append(command)
        protocol.waiting.append(future)
        return future

    async def _connected(self) -> _Protocol:
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        try:
            protocol = await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None
        return protocol

    async def _connect(self) -> _Protocol:
        loop, options = asyncio.get_running_loop(), self.options
        try:
            async with asyncio.timeout(self.timeout):
                if "path" in options:
                    _, protocol = await loop.create_unix_connection(_Protocol, options["path"])
                else:
                    secure = options.get("connection_class") is SSLConnection
                    _, protocol = await loop.create_connection(
                        _Protocol,
                        options.get("host", "localhost"),
                        options.get("port", 6379),
                        ssl=ssl.create_default_context() if secure else None,
                    )
                handshake = []
                if options.get("password"):
                    user = options.get("username")
                    auth = (
                        ("AUTH", user, options["password"])
                        if user
                        else ("AUTH", options["password"])
                    )
                    handshake.append(pack(*auth))
                if options.get("db"):
                    handshake.append(pack("SELECT", options["db"]))
                replies = [self._send(protocol, command) for command in handshake]
                for reply in await asyncio.gather(*replies):
                    if isinstance(reply, ResponseError):
                        if protocol.transport is not None:
                            protocol.transport.abort()
                        raise ConnectionError(f"Redis refused the connection: {reply}")
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot connect to Redis: {exc}") from exc
        self._protocol = protocol
        return protocol

    def abort(self) -> None:
        """Drop the connection (a reply is overdue: the ones after it cannot be trusted)."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.abort()

    async def aclose(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()


__all__ = [
    "ConnectionError",
    "NoScriptError",
    "PipelinedConnection",
    "ResponseError",
    "bulks",
    "pack",
]
