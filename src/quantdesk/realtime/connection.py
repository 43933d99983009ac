"""One WebSocket connection from accept to close: authentication, commands, limits,
heartbeat (docs/realtime.md). The hub does the fan-out; this module speaks the protocol."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import authenticate
from quantdesk.auth.keyformat import KEY_PREFIX
from quantdesk.errors import AppError
from quantdesk.kit.app_state import app_state
from quantdesk.kit.clientip import client_ip, parse_networks
from quantdesk.ratelimit.dependencies import STATE_CLIENT_IP
from quantdesk.realtime.client import Client
from quantdesk.realtime.hub import Hub
from quantdesk.realtime.protocol import (
    ALL,
    CLOSE_AUTH,
    CLOSE_CONNECTION_CAP,
    CLOSE_HEARTBEAT,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    SYMBOL_CHANNELS,
    Command,
    CommandError,
    encode,
    error_frame,
    now_iso,
    parse_command,
)

# Query parameters that would carry a credential: refused (URLs land in access logs).
TOKEN_PARAMS = frozenset({"token", "access_token", "api_key", "apikey", "key", "jwt", "auth"})


class Session:
    """The protocol state of one connection (after authentication)."""

    def __init__(self, hub: Hub, client: Client) -> None:
        self.hub = hub
        self.client = client
        self.settings = hub.settings
        self.awaiting_pong = False
        self._commands: deque[float] = deque()

    def keys_for(self, command: Command, channel: str) -> list[tuple[str, str]]:
        principal = self.client.principal
        if channel in SYMBOL_CHANNELS:
            return [(channel, symbol) for symbol in command.symbols]
        if principal.is_anonymous:
            raise CommandError(
                "channel", f"sign in to stream {channel}", status=401, code="unauthorized"
            )
        if channel == "orders" and not principal.has(Scope.EXECUTE_TRADES):
            raise CommandError("channel", "orders need the execute:trades scope", status=403)
        if channel == "jobs" and principal.has(Scope.SYSTEM_ADMIN):
            return [(channel, ALL)]
        return [(channel, self.client.user_key)]

    def handle(self, command: Command) -> None:
        """Apply one command and queue its answer (ack, pong or error frame)."""
        client = self.client
        if command.action in ("ping", "pong"):
            self.awaiting_pong = False
            if command.action == "ping":
                client.offer_now(
                    encode({"type": "pong", "id": command.ref, "timestamp": now_iso()})
                )
            return
        if command.action == "auth":
            raise CommandError("action", "already authenticated", status=409, code="conflict")
        keys: list[tuple[str, str]] = []
        for channel in command.channels:
            keys.extend(self.keys_for(command, channel))
        subscribing = command.action == "subscribe"
        if subscribing:
            total = len(client.subscriptions | set(keys))
            limit = self.settings.realtime_max_subscriptions
            if total > limit:
                raise CommandError(
                    "symbols",
                    f"at most {limit} subscriptions per connection ({total} asked)",
                    code="too-many-subscriptions",
                )
        client.offer_now(
            encode(
                {
                    "type": "ack",
                    "id": command.ref,
                    "action": command.action,
                    "channels": list(command.channels),
                    "symbols": list(command.symbols),
                    "subscriptions": len(client.subscriptions | set(keys))
                    if subscribing
                    else len(client.subscriptions - set(keys)),
                    "epoch": self.hub.epoch,
                }
            )
        )
        for key in keys:
            if subscribing:
                self.hub.subscribe(client, key)
                if command.since_seq is not None:
                    self.hub.replay(client, key, command.since_seq, command.epoch)
            else:
                self.hub.unsubscribe(client, key)

    def over_rate(self) -> bool:
        """Count one inbound command; True past the per-second limit."""
        now = time.monotonic()
        window = self._commands
        while window and now - window[0] >= 1.0:
            window.popleft()
        window.append(now)
        return len(window) > self.settings.realtime_max_commands_per_second

    async def heartbeat(self) -> None:
        interval = self.settings.realtime_heartbeat_seconds
        while not self.client.closing:
            await asyncio.sleep(interval)
            if self.awaiting_pong:
                self.client.shut(CLOSE_HEARTBEAT, "no pong to the last ping")
                return
            self.awaiting_pong = True
            self.client.offer_now(encode({"type": "ping", "timestamp": now_iso()}))


def _too_big(message: Mapping[str, Any], limit: int) -> bool:
    text = message.get("text")
    if text is not None:
        return len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit)
    data = message.get("bytes")
    return data is not None and len(data) > limit


def _credentials(ws: WebSocket) -> tuple[str | None, str | None]:
    return ws.headers.get("x-api-key"), ws.headers.get("authorization")


def _ip(ws: WebSocket) -> str:
    resolved = ws.scope.get("state", {}).get(STATE_CLIENT_IP)
    if isinstance(resolved, str):
        return resolved
    settings = app_state(ws.app).settings
    return client_ip(ws.scope, parse_networks(settings.trusted_proxies))


async def _token_principal(ws: WebSocket, token: str, ip: str) -> Principal:
    state = app_state(ws.app)
    if token.startswith(KEY_PREFIX):
        return await authenticate(state.db, state.settings, token, None, ip)
    return await authenticate(state.db, state.settings, None, f"Bearer {token}", ip)


async def serve(ws: WebSocket, preset: list[Command], *, needs_user: bool = False) -> None:
    """Run one connection. `preset`: commands applied right after authentication (the
    alias endpoints); `needs_user`: a guest may not use this endpoint (`/ws/trading`)."""
    state = app_state(ws.app)
    hub: Hub | None = getattr(state, "realtime", None)
    settings = state.settings
    await ws.accept()
    if hub is None:
        await ws.close(1013, "streams are not running")
        return
    if TOKEN_PARAMS & {name.lower() for name in ws.query_params}:
        await ws.close(CLOSE_AUTH, "tokens in the URL are refused: use a header or an auth message")
        return
    ip = _ip(ws)
    api_key, authorization = _credentials(ws)
    first: str | bytes | None = None
    authed_by_message = False
    try:
        if api_key is not None or authorization is not None:
            principal = await authenticate(
                state.db, settings, api_key.strip() if api_key else api_key, authorization, ip
            )
        elif preset and not needs_user:
            principal = Principal.anonymous(ip)
        else:
            message = await asyncio.wait_for(
                ws.receive(), timeout=settings.realtime_auth_timeout_seconds
            )
            if message["type"] == "websocket.disconnect":
                return
            if _too_big(message, settings.realtime_max_frame_bytes):
                await ws.close(CLOSE_TOO_BIG, "frame too large")
                return
            first = message.get("text") or message.get("bytes") or b""
            try:
                command = parse_command(first)
            except CommandError:
                command = None
            if command is not None and command.action == "auth" and command.token:
                principal = await _token_principal(ws, command.token, ip)
                first, authed_by_message = None, True
            elif needs_user:
                await ws.close(CLOSE_AUTH, "authenticate first")
                return
            else:
                principal = Principal.anonymous(ip)
    except TimeoutError:
        await ws.close(CLOSE_AUTH, "authenticate within the time limit")
        return
    except AppError as exc:
        await ws.close(CLOSE_AUTH, (exc.detail or "invalid credentials")[:120])
        return
    except WebSocketDisconnect:
        return
    conn_key = f"user:{principal.user_id}" if principal.user_id is not None else f"ip:{ip}"

    async def send(text: str) -> None:
        await ws.send({"type": "websocket.send", "text": text})

    async def close(code: int, reason: str) -> None:
        await ws.close(code, reason)

    client = Client(
        principal, send, close, maxsize=settings.realtime_outbound_queue, conn_key=conn_key
    )
    if not hub.admit(client):
        await ws.close(CLOSE_CONNECTION_CAP, "too many connections for this user")
        return
    session = Session(hub, client)
    sender = asyncio.create_task(client.run_sender(), name="realtime:sender")
    heartbeat = asyncio.create_task(session.heartbeat(), name="realtime:heartbeat")
    try:
        if authed_by_message:
            client.offer_now(
                encode({"type": "ack", "action": "auth", "user_id": principal.user_id})
            )
        for command in preset:
            _apply(session, command)
        if first is not None or authed_by_message:
            session.over_rate()  # the first message counts against the command rate too
        if first is not None:
            _apply_raw(session, first)
        await _receive_loop(ws, session)
    finally:
        hub.leave(client)
        heartbeat.cancel()
        if not client.closing:
            client.shut(1000, "")
            client.close_code = None  # the peer left: nothing to close
        try:
            await asyncio.wait_for(sender, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            sender.cancel()


def _apply(session: Session, command: Command) -> None:
    try:
        session.handle(command)
    except CommandError as exc:
        session.client.offer_now(error_frame(exc, command.ref))


def _apply_raw(session: Session, raw: str | bytes) -> None:
    try:
        command = parse_command(raw)
    except CommandError as exc:
        session.client.offer_now(error_frame(exc))
        return
    _apply(session, command)


async def _receive_loop(ws: WebSocket, session: Session) -> None:
    client = session.client
    limit = session.settings.realtime_max_frame_bytes
    finished = asyncio.ensure_future(client.finished.wait())
    try:
        while not client.closing:
            receiving = asyncio.ensure_future(ws.receive())
            await asyncio.wait((receiving, finished), return_when=asyncio.FIRST_COMPLETED)
            if not receiving.done():  # the sender closed (or gave up on) the connection
                receiving.cancel()
                return
            if not await _handle_message(session, receiving.result(), limit):
                return
    finally:
        finished.cancel()


async def _handle_message(session: Session, message: Mapping[str, Any], limit: int) -> bool:
    """Apply one inbound message; False when the connection ends."""
    client = session.client
    if message["type"] == "websocket.disconnect":
        return False
    if _too_big(message, limit):
        client.shut(CLOSE_TOO_BIG, f"frames are limited to {limit} bytes")
        return False
    if session.over_rate():
        limit_s = session.settings.realtime_max_commands_per_second
        client.shut(CLOSE_POLICY, f"more than {limit_s} commands per second")
        return False
    _apply_raw(session, message.get("text") or message.get("bytes") or b"")
    return True
