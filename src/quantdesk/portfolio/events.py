"""What the desk publishes on the event bus (topics `orders.<account_id>` and
`alerts.<user_id>`): every order transition and fill, and every price alert that fires. The
realtime streams and webhooks subscribe to these."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from quantdesk.infra.events import check_topic, register_payload


def _str(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str):
        raise ValueError(f"{field}: expected a string")
    return value


def _opt_str(data: dict[str, Any], field: str) -> str | None:
    value = data.get(field)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{field}: expected a string or null")
    return value


@register_payload
@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An order's new state. `event` is what happened: accepted, rejected, fill, partial_fill,
    canceled, expired, replaced. Money fields are decimal strings."""

    type_name: ClassVar[str] = "order_update"

    account_id: str
    order_id: str
    event: str
    status: str
    symbol: str
    side: str
    qty: str
    filled_qty: str
    filled_avg_price: str | None
    fill_qty: str | None = None
    fill_price: str | None = None
    market_ts: int | None = None
    reason: str | None = None

    @property
    def topic(self) -> str:
        return check_topic(f"orders.{self.account_id}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        ts = data.get("market_ts")
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int)):
            raise ValueError("market_ts: expected an integer or null")
        return cls(
            account_id=_str(data, "account_id"),
            order_id=_str(data, "order_id"),
            event=_str(data, "event"),
            status=_str(data, "status"),
            symbol=_str(data, "symbol"),
            side=_str(data, "side"),
            qty=_str(data, "qty"),
            filled_qty=_str(data, "filled_qty"),
            filled_avg_price=_opt_str(data, "filled_avg_price"),
            fill_qty=_opt_str(data, "fill_qty"),
            fill_price=_opt_str(data, "fill_price"),
            market_ts=ts,
            reason=_opt_str(data, "reason"),
        )


@register_payload
@dataclass(frozen=True, slots=True)
class AlertTriggered:
    """A price alert fired on the market event at `bar_ts` (Unix seconds)."""

    type_name: ClassVar[str] = "alert_triggered"

    user_id: int
    alert_id: str
    symbol: str
    condition: str
    level: str
    price: str
    bar_ts: int

    @property
    def topic(self) -> str:
        return check_topic(f"alerts.{self.user_id}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        user_id, bar_ts = data.get("user_id"), data.get("bar_ts")
        for field, value in (("user_id", user_id), ("bar_ts", bar_ts)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{field}: expected an integer")
        return cls(
            user_id=user_id,  # type: ignore[arg-type]  # checked above
            alert_id=_str(data, "alert_id"),
            symbol=_str(data, "symbol"),
            condition=_str(data, "condition"),
            level=_str(data, "level"),
            price=_str(data, "price"),
            bar_ts=bar_ts,  # type: ignore[arg-type]
        )
