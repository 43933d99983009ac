"""The WebSocket protocol's messages (docs/realtime.md): commands in, frames out.

Commands are parsed by hand rather than by a Pydantic model: every inbound message goes
through here, and a refusal must name the field in a problem-shaped error frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

Channel = Literal["quotes", "bars", "signals", "orders", "alerts", "news", "jobs"]
CHANNELS: tuple[Channel, ...] = ("quotes", "bars", "signals", "orders", "alerts", "news", "jobs")
# Channels whose streams are per symbol; the others are per owner (orders, alerts, jobs).
SYMBOL_CHANNELS: frozenset[str] = frozenset({"quotes", "bars", "signals", "news"})
PUBLIC_CHANNELS: frozenset[str] = SYMBOL_CHANNELS
ACTIONS = ("auth", "subscribe", "unsubscribe", "ping", "pong")
ALL = "*"
MAX_SYMBOL_LENGTH = 32

# Close codes (RFC 6455 reserves 4000-4999 for applications).
CLOSE_AUTH = 4001  # no or bad credentials, tokens in the URL
CLOSE_HEARTBEAT = 4002  # the previous server ping went unanswered
CLOSE_CONNECTION_CAP = 4029  # too many connections for this user
CLOSE_SLOW = 4008  # the outbound queue overflowed
CLOSE_POLICY = 1008  # more than the allowed commands per second
CLOSE_TOO_BIG = 1009  # an inbound frame over the size limit


class CommandError(Exception):
    """A command the server refuses: answered with an error frame, the connection stays."""

    def __init__(self, field: str, message: str, *, status: int = 422, code: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status
        self.code = code or ("validation-error" if status == 422 else "forbidden")
        self.ref: Any = None  # the command's `id`, when it had one


@dataclass(frozen=True, slots=True)
class Command:
    action: str
    ref: Any = None  # the client's `id`, echoed in the answer
    channels: tuple[Channel, ...] = ()
    symbols: tuple[str, ...] = ()
    since_seq: int | dict[str, int] | None = None
    epoch: str | None = None  # the hub epoch `since_seq` was counted in (from an ack)
    token: str | None = None


def _symbols(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise CommandError("symbols", 'expected a non-empty list of symbols (or ["*"])')
    symbols: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_SYMBOL_LENGTH:
            raise CommandError("symbols", f"not a symbol: {item!r}")
        symbol = item.strip().upper()
        if symbol not in symbols:
            symbols.append(symbol)
    return tuple(symbols)


def _since_seq(value: Any) -> int | dict[str, int] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in value.items()
    ):
        return dict(value)
    raise CommandError(
        "since_seq", "expected a sequence number >= 0, or an object of stream -> number"
    )


def parse_command(raw: str | bytes) -> Command:
    """The command in one inbound message, or CommandError naming the field."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise CommandError("body", "not a JSON object") from None
    if not isinstance(data, dict):
        raise CommandError("body", "expected a JSON object with an `action`")
    try:
        return _parse(data, data.get("id"))
    except CommandError as exc:
        exc.ref = data.get("id")
        raise


def _parse(data: dict[str, Any], ref: Any) -> Command:
    action = data.get("action")
    if action not in ACTIONS:
        raise CommandError("action", f"expected one of {', '.join(ACTIONS)}, got {action!r}")
    if action == "auth":
        token = data.get("token")
        if not isinstance(token, str) or not token.strip():
            raise CommandError("token", "expected a JWT or an API key")
        return Command("auth", ref, token=token.strip())
    if action in ("ping", "pong"):
        return Command(action, ref)
    unknown = set(data) - {"action", "id", "channel", "symbols", "symbol", "since_seq", "epoch"}
    if unknown:
        raise CommandError(sorted(unknown)[0], "unknown field")
    epoch = data.get("epoch")
    if epoch is not None and not isinstance(epoch, str):
        raise CommandError("epoch", "expected the epoch string of an earlier ack")
    since = _since_seq(data.get("since_seq"))
    channel = data.get("channel")
    if channel is None and "symbol" in data:
        # The seed's shorthand: {"action": "subscribe", "symbol": "BTC/USDT"} = quotes + signals.
        symbols = _symbols([data["symbol"]])
        return Command(action, ref, ("quotes", "signals"), symbols, since, epoch)
    if channel not in CHANNELS:
        raise CommandError("channel", f"expected one of {', '.join(CHANNELS)}, got {channel!r}")
    if "symbol" in data:
        raise CommandError("symbol", "use `symbols` (a list) together with `channel`")
    if channel in SYMBOL_CHANNELS:
        symbols = _symbols(data.get("symbols"))
    else:
        if data.get("symbols") not in (None, [ALL]):
            raise CommandError("symbols", f"the {channel} channel takes no symbols")
        symbols = (ALL,)
    return Command(action, ref, (channel,), symbols, since, epoch)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode(message: dict[str, Any]) -> bytes:
    return orjson.dumps(message)


def error_frame(error: CommandError, ref: Any = None) -> bytes:
    frame: dict[str, Any] = {
        "type": "error",
        "status": error.status,
        "code": error.code,
        "title": "Unprocessable Content" if error.status == 422 else "Forbidden",
        "detail": f"{error.field}: {error.message}",
        "errors": [{"field": error.field, "msg": error.message}],
    }
    ref = error.ref if ref is None else ref
    if ref is not None:
        frame["id"] = ref
    return encode(frame)


def event_frame(type_: str, stream: str, seq: int, data: dict[str, Any], timestamp: str) -> bytes:
    return orjson.dumps(
        {"type": type_, "channel": stream, "seq": seq, "data": data, "timestamp": timestamp}
    )
