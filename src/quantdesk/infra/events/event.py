"""What travels on the bus: an `Event` envelope (a topic and a typed payload) and the payloads.

The envelope is generic and the payload types are registered by name (`register_payload`), so a
later kind of event (an order fill, an alert) is one new frozen dataclass with `type_name`,
`to_dict()` and `from_dict()`, registered once; the buses, the Redis wire format and every
subscriber stay as they are. Consumers narrow `event.payload` with `isinstance`.

Topics are dot-separated names, `market.bar.<SYMBOL>.<timeframe>` and `market.quote.<SYMBOL>`
(`market_topic`). A subscription pattern is either one exact topic or a prefix ending in `.`
(`market.bar.`, `market.`), which matches every topic that starts with it. Symbols may contain
dots (`BRK.B`), so the prefix `market.bar.BRK.` also matches `market.bar.BRK.B.1d`: a consumer
of one symbol subscribes to its exact topics (or filters on `payload.symbol`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar, Literal, Protocol, Self, runtime_checkable

import orjson

MarketEventKind = Literal["bar", "quote"]
MarketEventSource = Literal["live", "replay"]

# Letters, digits and `_ = ^ - : /` between single dots: every symbol and timeframe fits, and no
# Redis glob character (`* ? [ ] \`) can reach a PSUBSCRIBE pattern.
_TOPIC_RE = re.compile(r"[A-Za-z0-9_=^:/-]+(?:\.[A-Za-z0-9_=^:/-]+)*")


def check_topic(topic: str) -> str:
    """`topic` itself, or ValueError saying what a topic may contain."""
    if not _TOPIC_RE.fullmatch(topic):
        raise ValueError(
            f"not an event topic: {topic!r} (dot-separated names of letters, digits and "
            "_ = ^ - : /)"
        )
    return topic


def check_pattern(pattern: str) -> str:
    """`pattern` itself (an exact topic, or a prefix of whole names ending in `.`)."""
    check_topic(pattern[:-1] if pattern.endswith(".") else pattern)
    return pattern


def is_prefix(pattern: str) -> bool:
    return pattern.endswith(".")


def topic_matches(pattern: str, topic: str) -> bool:
    return topic.startswith(pattern) if is_prefix(pattern) else topic == pattern


@runtime_checkable
class Payload(Protocol):
    """An event's content: a frozen dataclass that turns into a JSON object and back."""

    type_name: ClassVar[str]

    def to_dict(self) -> dict[str, Any]: ...

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self: ...


_PAYLOAD_TYPES: dict[str, type[Payload]] = {}


def register_payload(cls: type[Payload]) -> type[Payload]:
    """Make a payload type decodable from the wire (use as a class decorator)."""
    known = _PAYLOAD_TYPES.get(cls.type_name)
    if known is not None and known is not cls:
        raise ValueError(f"payload type {cls.type_name!r} is already {known.__qualname__}")
    _PAYLOAD_TYPES[cls.type_name] = cls
    return cls


def _number(data: dict[str, Any], field: str) -> float:
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{field}: expected a number, got {value!r}")
    return float(value)


@register_payload
@dataclass(frozen=True, slots=True)
class MarketEvent:
    """A new bar or quote for a symbol, stamped with market time.

    `ts` is the bar's open time (or the quote's as_of) in Unix seconds; a quote has no
    timeframe and carries its price in `close` (open/high/low too, volume 0 unless known).
    `source` tells live data from a replay of stored bars.
    """

    type_name: ClassVar[str] = "market"

    kind: MarketEventKind
    symbol: str
    timeframe: str | None
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    source: MarketEventSource = "live"

    def __post_init__(self) -> None:
        if self.kind not in ("bar", "quote"):
            raise ValueError(f"kind: expected 'bar' or 'quote', got {self.kind!r}")
        if self.source not in ("live", "replay"):
            raise ValueError(f"source: expected 'live' or 'replay', got {self.source!r}")
        if not isinstance(self.symbol, str) or not self.symbol:
            raise ValueError("symbol: expected a non-empty string")
        if self.timeframe is not None and not isinstance(self.timeframe, str):
            raise ValueError(f"timeframe: expected a string, got {self.timeframe!r}")
        if self.kind == "bar" and not self.timeframe:
            raise ValueError("timeframe: a bar needs one")
        if self.kind == "quote" and self.timeframe is not None:
            raise ValueError("timeframe: a quote has none")
        if isinstance(self.ts, bool) or not isinstance(self.ts, int):
            raise ValueError(f"ts: expected Unix seconds (an integer), got {self.ts!r}")
        for field in ("open", "high", "low", "close", "volume"):
            if not math.isfinite(getattr(self, field)):
                raise ValueError(f"{field}: expected a finite number")

    @property
    def topic(self) -> str:
        return market_topic(self.kind, self.symbol, self.timeframe)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "ts": self.ts,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        ts = data.get("ts")
        if isinstance(ts, float) and ts.is_integer():
            ts = int(ts)
        return cls(
            kind=data.get("kind"),  # type: ignore[arg-type]  # checked in __post_init__
            symbol=data.get("symbol"),  # type: ignore[arg-type]
            timeframe=data.get("timeframe"),
            ts=ts,  # type: ignore[arg-type]
            open=_number(data, "open"),
            high=_number(data, "high"),
            low=_number(data, "low"),
            close=_number(data, "close"),
            volume=_number(data, "volume"),
            source=data.get("source", "live"),
        )

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_json(cls, raw: bytes | str) -> Self:
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("a market event is a JSON object")
        return cls.from_dict(data)


def market_topic(kind: str, symbol: str, timeframe: str | None = None) -> str:
    """`market.bar.<SYMBOL>.<timeframe>` or `market.quote.<SYMBOL>`."""
    if kind == "bar":
        return check_topic(f"market.bar.{symbol}.{timeframe}")
    return check_topic(f"market.quote.{symbol}")


@dataclass(frozen=True, slots=True)
class Event:
    """One delivery: the topic it was published on and its payload.

    `seq` and `epoch` are set by the Redis bus only (redis_log.py): the topic's sequence
    number, shared by every process, and the numbering it belongs to. They take no part in
    equality (the same event, however numbered)."""

    topic: str
    payload: Payload
    seq: int | None = dataclass_field(default=None, compare=False)
    epoch: str | None = dataclass_field(default=None, compare=False)

    def to_json(self) -> bytes:
        """`{"topic", "type", "payload"}` (plus `seq`, `epoch` when numbered): the Redis wire
        format (and webhooks')."""
        data: dict[str, Any] = {
            "topic": self.topic,
            "type": self.payload.type_name,
            "payload": self.payload.to_dict(),
        }
        if self.seq is not None:
            data["seq"] = self.seq
            data["epoch"] = self.epoch
        return orjson.dumps(data)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """The event, or ValueError (orjson's decode error is one) for anything malformed."""
        data = orjson.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("an event is a JSON object")
        topic, type_name, payload = data.get("topic"), data.get("type"), data.get("payload")
        if not isinstance(topic, str):
            raise ValueError("topic: expected a string")
        payload_type = _PAYLOAD_TYPES.get(type_name) if isinstance(type_name, str) else None
        if payload_type is None:
            raise ValueError(f"type: unknown payload type {type_name!r}")
        if not isinstance(payload, dict):
            raise ValueError("payload: expected an object")
        seq, epoch = data.get("seq"), data.get("epoch")
        if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int) or seq < 1):
            raise ValueError("seq: expected a positive integer")
        if epoch is not None and not isinstance(epoch, str):
            raise ValueError("epoch: expected a string")
        return cls(check_topic(topic), payload_type.from_dict(payload), seq, epoch)
