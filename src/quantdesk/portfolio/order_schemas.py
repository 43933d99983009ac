"""Order requests and answers (docs/paper-trading.md, "Orders").

Quantities and prices are decimal strings in and out (`portfolio.money`). The price fields an
order needs follow from its `type`: `limit_price` for limit and stop_limit orders only,
`stop_price` for stop and stop_limit orders only; a missing or a superfluous one is a 422
naming that field.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from quantdesk.kit.schemas import RequestModel
from quantdesk.kit.symbols import SYMBOL_PATTERN, normalize_symbol
from quantdesk.models.portfolio import (
    OrderSide,
    OrderStatus,
    OrderType,
    PaperOrder,
    TimeInForce,
    fixed8,
)
from quantdesk.portfolio.money import Money, PositiveDecimal

NEEDS_LIMIT = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
NEEDS_STOP = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})
CLIENT_ORDER_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,64}$"

ClientOrderId = Annotated[
    str | None,
    Field(
        default=None,
        pattern=CLIENT_ORDER_ID_PATTERN,
        description="Your own id for the order (1-64 of letters, digits and . _ : -), "
        "unique per account",
    ),
]


class StatusFilter(StrEnum):
    """GET .../orders?status=: one status, or `open` (new, partially_filled) / `closed`."""

    OPEN = "open"
    CLOSED = "closed"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"


def price_field_error(order_type: OrderType, field: str, value: object) -> str | None:
    """Why `field` (limit_price / stop_price) is wrong for an order of `order_type`, or None."""
    needed = NEEDS_LIMIT if field == "limit_price" else NEEDS_STOP
    if order_type in needed and value is None:
        return f"a {order_type.value} order needs {field}"
    if order_type not in needed and value is not None:
        return f"a {order_type.value} order takes no {field}"
    return None


class OrderCreate(RequestModel):
    """POST /accounts/{id}/orders."""

    symbol: str = Field(min_length=1, max_length=32, pattern=SYMBOL_PATTERN, examples=["AAPL"])
    side: OrderSide
    type: OrderType
    qty: PositiveDecimal
    limit_price: PositiveDecimal | None = Field(default=None, validate_default=True)
    stop_price: PositiveDecimal | None = Field(default=None, validate_default=True)
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: ClientOrderId = None

    @field_validator("symbol", mode="before")
    @classmethod
    def _symbol(cls, value: object) -> object:
        # Before the pattern check, so " goog " is trimmed and upper-cased, not refused.
        return normalize_symbol(value) if isinstance(value, str) else value

    @field_validator("limit_price", "stop_price")
    @classmethod
    def _price_for_type(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        order_type = info.data.get("type")
        if isinstance(order_type, OrderType) and info.field_name is not None:
            problem = price_field_error(order_type, info.field_name, value)
            if problem is not None:
                raise ValueError(problem)
        return value

    def canonical(self) -> dict[str, Any]:
        """The request as stored for idempotency: every field, amounts at the stored
        precision with trailing zeros stripped ("10" and "10.00" are the same order)."""
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "type": self.type.value,
            "qty": _plain(self.qty),
            "limit_price": _plain(self.limit_price),
            "stop_price": _plain(self.stop_price),
            "time_in_force": self.time_in_force.value,
            "client_order_id": self.client_order_id,
        }

    def request_hash(self) -> str:
        """sha256 of the canonical request (sorted-key JSON)."""
        return hashlib.sha256(
            orjson.dumps(self.canonical(), option=orjson.OPT_SORT_KEYS)
        ).hexdigest()


class OrderReplace(RequestModel):
    """PATCH /accounts/{id}/orders/{order_id}: what changes; the rest is copied from the order
    it replaces. At least one field."""

    qty: PositiveDecimal | None = None
    limit_price: PositiveDecimal | None = None
    stop_price: PositiveDecimal | None = None
    time_in_force: TimeInForce | None = None
    client_order_id: ClientOrderId = None

    @model_validator(mode="after")
    def _something(self) -> OrderReplace:
        if not self.model_fields_set:
            raise ValueError(
                "give at least one of qty, limit_price, stop_price, time_in_force, client_order_id"
            )
        return self


class OrderRead(BaseModel):
    id: str
    client_order_id: str | None
    account_id: str
    symbol: str
    side: OrderSide
    type: OrderType
    time_in_force: TimeInForce
    qty: Money
    limit_price: Money | None
    stop_price: Money | None
    status: OrderStatus
    filled_qty: Money
    filled_avg_price: Money | None
    fees: Money
    hold: Money
    reject_reason: str | None
    reason_detail: str | None
    replaces: str | None
    replaced_by: str | None
    accepted_market_time: datetime | None = Field(
        description="The symbol's market time when the order was accepted (its latest "
        "processed market event); null before the first one"
    )
    created_at: datetime
    updated_at: datetime
    filled_at: datetime | None
    canceled_at: datetime | None
    expired_at: datetime | None
    rejected_at: datetime | None
    replaced_at: datetime | None


def _plain(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(fixed8(value).normalize(), "f")


def order_read(order: PaperOrder) -> OrderRead:
    ts = order.accepted_market_ts
    return OrderRead(
        id=order.id,
        client_order_id=order.client_order_id,
        account_id=order.account_id,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        time_in_force=order.time_in_force,
        qty=order.qty,
        limit_price=order.limit_price,
        stop_price=order.stop_price,
        status=order.status,
        filled_qty=order.filled_qty,
        filled_avg_price=order.filled_avg_price,
        fees=order.fees,
        hold=order.hold,
        reject_reason=order.reject_reason,
        reason_detail=order.reason_detail,
        replaces=order.replaces,
        replaced_by=order.replaced_by,
        accepted_market_time=(
            datetime.fromtimestamp(ts, tz=UTC) if ts is not None and ts >= 0 else None
        ),
        created_at=order.created_at,
        updated_at=order.updated_at,
        filled_at=order.filled_at,
        canceled_at=order.canceled_at,
        expired_at=order.expired_at,
        rejected_at=order.rejected_at,
        replaced_at=order.replaced_at,
    )
