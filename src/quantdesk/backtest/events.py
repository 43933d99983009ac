"""What the backtest domain publishes (topic `backtests.<user_id>`): a run finished, as
`completed` or `failed`. Streams (the `jobs` channel) and webhooks subscribe to it; and, for
a sweep, `backtest_progress` as each chunk finishes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from quantdesk.infra.events import check_topic, register_payload


@register_payload
@dataclass(frozen=True, slots=True)
class BacktestCompleted:
    type_name: ClassVar[str] = "backtest_completed"

    user_id: int
    backtest_id: str
    kind: str  # backtest or sweep
    symbol: str | None
    status: str  # completed or failed
    error: str | None = None

    @property
    def topic(self) -> str:
        return check_topic(f"backtests.{self.user_id}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        user_id = data.get("user_id")
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise ValueError("user_id: expected an integer")
        for field in ("backtest_id", "kind", "status"):
            if not isinstance(data.get(field), str):
                raise ValueError(f"{field}: expected a string")
        return cls(
            user_id=user_id,
            backtest_id=data["backtest_id"],
            kind=data["kind"],
            symbol=data.get("symbol"),
            status=data["status"],
            error=data.get("error"),
        )


@register_payload
@dataclass(frozen=True, slots=True)
class BacktestProgress:
    """A sweep chunk finished: ``chunks_done`` of ``chunks_total`` (``percent`` of them)."""

    type_name: ClassVar[str] = "backtest_progress"

    user_id: int
    backtest_id: str
    chunks_done: int
    chunks_total: int
    percent: float

    @property
    def topic(self) -> str:
        return check_topic(f"backtests.{self.user_id}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        for field in ("user_id", "chunks_done", "chunks_total"):
            value = data.get(field)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{field}: expected an integer")
        if not isinstance(data.get("backtest_id"), str):
            raise ValueError("backtest_id: expected a string")
        percent = data.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, int | float):
            raise ValueError("percent: expected a number")
        return cls(
            user_id=data["user_id"],
            backtest_id=data["backtest_id"],
            chunks_done=data["chunks_done"],
            chunks_total=data["chunks_total"],
            percent=float(percent),
        )
