"""`ReplayStatus`: a market replay of one symbol started or stopped (topic
`market.replay.<SYMBOL>`, `replay_topic`).

A consumer that keeps a market clock per symbol (the paper-trading desk) switches the symbol to
replay mode on `started` (from then on only `source="replay"` market events of that replay
count) and back to live on `stopped`. `start_ts` is the replay's requested start in Unix
seconds (its first bar is at or after it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from quantdesk.infra.events.event import check_topic, register_payload

ReplayState = Literal["started", "stopped"]


def replay_topic(symbol: str) -> str:
    """`market.replay.<SYMBOL>`."""
    return check_topic(f"market.replay.{symbol}")


def _text(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field}: expected a non-empty string, got {value!r}")
    return value


@register_payload
@dataclass(frozen=True, slots=True)
class ReplayStatus:
    """A replay of `symbol` (`timeframe` bars from `start_ts`) started or stopped."""

    type_name: ClassVar[str] = "replay"

    symbol: str
    replay_id: str
    state: ReplayState
    timeframe: str
    start_ts: int

    def __post_init__(self) -> None:
        if self.state not in ("started", "stopped"):
            raise ValueError(f"state: expected 'started' or 'stopped', got {self.state!r}")
        for field in ("symbol", "replay_id", "timeframe"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{field}: expected a non-empty string, got {value!r}")
        if isinstance(self.start_ts, bool) or not isinstance(self.start_ts, int):
            raise ValueError(f"start_ts: expected Unix seconds (an integer), got {self.start_ts!r}")

    @property
    def topic(self) -> str:
        return replay_topic(self.symbol)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "replay_id": self.replay_id,
            "state": self.state,
            "timeframe": self.timeframe,
            "start_ts": self.start_ts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        start_ts = data.get("start_ts")
        if isinstance(start_ts, float) and start_ts.is_integer():
            start_ts = int(start_ts)
        return cls(
            symbol=_text(data, "symbol"),
            replay_id=_text(data, "replay_id"),
            state=data.get("state"),  # type: ignore[arg-type]  # checked in __post_init__
            timeframe=_text(data, "timeframe"),
            start_ts=start_ts,  # type: ignore[arg-type]
        )
