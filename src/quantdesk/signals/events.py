"""What the signals domain publishes (topic `signals.<SYMBOL>`): a new signal, and a signal
that closed (target hit, stopped or expired). Streams and webhooks subscribe to these."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Self

from quantdesk.infra.events import check_topic, register_payload
from quantdesk.models.signals import Signal


def _fields(cls: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    names = [field.name for field in fields(cls)]  # not the ClassVar type_name
    missing = [name for name in names if name not in data]
    if missing:
        raise ValueError(f"{missing[0]}: missing")
    return {name: data[name] for name in names}


@register_payload
@dataclass(frozen=True, slots=True)
class NewSignal:
    """A signal stored for the bar at `source_ts` (Unix seconds)."""

    type_name: ClassVar[str] = "new_signal"

    signal_id: int
    symbol: str
    timeframe: str
    strategy: str
    direction: str
    entry: float
    target: float
    stop: float
    confidence: float
    source_ts: int
    expires_at: str

    @property
    def topic(self) -> str:
        return check_topic(f"signals.{self.symbol}")

    @classmethod
    def of(cls, signal: Signal) -> NewSignal:
        return cls(
            signal_id=signal.id,
            symbol=signal.symbol,
            timeframe=signal.timeframe,
            strategy=signal.strategy,
            direction=str(signal.direction.value),
            entry=signal.entry,
            target=signal.target,
            stop=signal.stop,
            confidence=signal.confidence,
            source_ts=signal.source_ts,
            expires_at=signal.expires_at.isoformat().replace("+00:00", "Z"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**_fields(cls, data))


@register_payload
@dataclass(frozen=True, slots=True)
class SignalClosed:
    """A signal left `active`: `status` is target_hit, stopped or expired."""

    type_name: ClassVar[str] = "signal_closed"

    signal_id: int
    symbol: str
    timeframe: str
    strategy: str
    status: str
    close_price: float | None
    settled_return: float | None
    closed_at: str | None

    @property
    def topic(self) -> str:
        return check_topic(f"signals.{self.symbol}")

    @classmethod
    def of(cls, signal: Signal) -> SignalClosed:
        closed = signal.closed_at
        return cls(
            signal_id=signal.id,
            symbol=signal.symbol,
            timeframe=signal.timeframe,
            strategy=signal.strategy,
            status=str(signal.status.value),
            close_price=signal.close_price,
            settled_return=signal.settled_return,
            closed_at=None if closed is None else closed.isoformat().replace("+00:00", "Z"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        return cls(**_fields(cls, data))
