"""One WebSocket connection's server side: what it subscribed to and its outbound queue.

The hub offers it frames (already encoded, shared by every subscriber of the stream); a
sender task drains the queue and sends what is pending as ONE message, a JSON array when
more than one frame waits. The queue is bounded: a client that falls `maxsize` frames behind
is closed with 4008 rather than slowing the hub or growing memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from quantdesk.access.principal import Principal
from quantdesk.realtime import metrics
from quantdesk.realtime.protocol import CLOSE_SLOW

Send = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]
ABORT_AFTER_SECONDS = 2.0


class Client:
    def __init__(
        self, principal: Principal, send: Send, close: Close, *, maxsize: int, conn_key: str
    ) -> None:
        self.principal = principal
        self.conn_key = conn_key  # what the per-user connection cap counts
        self.subscriptions: set[tuple[str, str]] = set()  # (channel, key)
        self.maxsize = maxsize
        self.closing = False
        self.close_code: int | None = None
        self._send = send
        self._close = close
        self._queue: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._close_reason = ""
        self._sender: asyncio.Task[None] | None = None
        self._aborted = False
        self.finished = asyncio.Event()  # the sender is done: the connection is over

    @property
    def user_key(self) -> str:
        """The owner key orders, alerts and jobs are indexed by ("" for a guest)."""
        uid = self.principal.user_id
        return "" if uid is None else str(uid)

    def pending(self) -> int:
        return len(self._queue)

    def offer(self, frame: bytes) -> bool:
        """Queue one frame; False (and the client is being closed) when it is too far behind."""
        if self.closing:
            return False
        if len(self._queue) >= self.maxsize:
            metrics.WS_SLOW_CLIENTS.inc()
            self.shut(CLOSE_SLOW, "too slow: outbound queue full")
            return False
        self._queue.append(frame)
        self._wakeup.set()
        return True

    def offer_now(self, frame: bytes) -> None:
        """Queue a control frame (ack, error, pong), never refused for size."""
        if not self.closing:
            self._queue.append(frame)
            self._wakeup.set()

    def shut(self, code: int, reason: str) -> None:
        """Close the connection soon (from synchronous code: the sender does it)."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self._queue.clear()
        self._close_reason = reason
        self._wakeup.set()
        if self._sender is not None:  # a send stuck on a peer that reads nothing is abandoned
            asyncio.get_running_loop().call_later(ABORT_AFTER_SECONDS, self._abort)

    def _abort(self) -> None:
        if self._sender is not None and not self._sender.done():
            self._aborted = True
            self._sender.cancel()

    async def _send_close(self) -> None:
        if self.close_code is None:
            return
        metrics.WS_CLOSED.labels(str(self.close_code)).inc()
        try:
            await asyncio.wait_for(self._close(self.close_code, self._close_reason), 5)
        except Exception:  # already gone
            return

    async def run_sender(self) -> None:
        """Send queued frames until the client is shut; then close the socket."""
        self._sender = asyncio.current_task()
        try:
            await self._run()
        except asyncio.CancelledError:
            if not self._aborted:
                raise
            # A send stuck on a peer that reads nothing was abandoned: close all the same
            # (the transport gives up on a peer that never acknowledges the close).
            await self._send_close()
        finally:
            self.finished.set()

    async def _run(self) -> None:
        queue = self._queue
        try:
            while not self.closing:
                if not queue:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                if len(queue) == 1:
                    message = queue.popleft()
                else:
                    frames = list(queue)
                    queue.clear()
                    message = b"[" + b",".join(frames) + b"]"
                    metrics.WS_MESSAGES_SENT.inc(len(frames) - 1)
                metrics.WS_MESSAGES_SENT.inc()
                metrics.WS_SENDS.inc()
                await self._send(message.decode())
        except Exception:  # the peer went away: the receive loop sees it too
            self.closing = True
            return
        await self._send_close()
