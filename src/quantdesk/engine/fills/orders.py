"""The values the fill rules work on: fill model, market event, order state, outcomes.

Money, prices and quantities are ``Decimal``. Every value here is a frozen dataclass:
the engine never mutates its inputs, it returns what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final, Literal

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop", "stop_limit"]
TimeInForce = Literal["day", "gtc", "ioc", "fok"]
OutcomeStatus = Literal["open", "filled", "canceled", "expired"]

EIGHT_DP: Final = Decimal("0.00000001")
ZERO: Final = Decimal(0)

# Reasons an outcome gives for ending an order (``OrderOutcome.reason``).
INSUFFICIENT_BUYING_POWER: Final = "insufficient_buying_power"
IOC_REMAINDER: Final = "ioc_remainder_canceled"  # ioc: what did not fill on its first event
FOK_NOT_FILLED: Final = "fok_not_filled"  # fok: the whole quantity could not fill
DAY_SESSION_ENDED: Final = "day_session_ended"  # day: an event of a later UTC date arrived


def q8(value: Decimal) -> Decimal:
    """``value`` quantized to 8 decimals, ROUND_HALF_EVEN (how every amount is stored)."""
    return value.quantize(EIGHT_DP, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class FillModel:
    """How an account's orders fill.

    ``slippage_bps`` moves market and stop fills against the trader (of the base price);
    ``fee_bps`` and ``fee_min`` give each fill's fee, ``max(fee_min, notional * fee_bps /
    10_000)``; ``max_participation`` caps the quantity the account's orders of one symbol
    may fill on one bar at that fraction of the bar's volume (``None`` = no cap; a bar of
    volume 0, such as a quote or an FX bar, is never capped). ``qty_decimals`` is the
    quantity precision fills are rounded down to (8 by default; equities 4, FX 2).
    """

    slippage_bps: Decimal
    fee_bps: Decimal
    fee_min: Decimal
    max_participation: Decimal | None
    qty_decimals: int = 8

    def __post_init__(self) -> None:
        if self.slippage_bps < 0 or self.fee_bps < 0 or self.fee_min < 0:
            raise ValueError("slippage_bps, fee_bps and fee_min must be >= 0")
        if self.max_participation is not None and not 0 < self.max_participation <= 1:
            raise ValueError("max_participation must be in (0, 1] or None")
        if not 0 <= self.qty_decimals <= 8:
            raise ValueError("qty_decimals must be between 0 and 8")

    @property
    def qty_step(self) -> Decimal:
        """The smallest quantity a fill may have."""
        return Decimal(1).scaleb(-self.qty_decimals)


@dataclass(frozen=True, slots=True)
class BarPrices:
    """One market event: a bar's open time (Unix s) and its prices, or a quote
    (``open == high == low == close`` and ``volume == 0``).

    Raises ``ValueError`` unless ``low <= open, close <= high`` and volume >= 0.
    """

    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def __post_init__(self) -> None:
        if not (self.low <= self.open <= self.high and self.low <= self.close <= self.high):
            raise ValueError(
                f"invalid bar at ts={self.ts}: need low <= open, close <= high "
                f"(open={self.open}, high={self.high}, low={self.low}, close={self.close})"
            )
        if self.volume < 0:
            raise ValueError(f"invalid bar at ts={self.ts}: negative volume {self.volume}")

    @classmethod
    def from_floats(
        cls, ts: int, open: float, high: float, low: float, close: float, volume: float
    ) -> BarPrices:
        """A bar from float prices: each becomes ``Decimal(repr(float(x)))`` (the shortest
        repr, exact as displayed; numpy floats too), prices quantized to 8 decimals like
        every stored amount (rounding is monotonic, so a valid bar stays valid)."""
        step, even = EIGHT_DP, ROUND_HALF_EVEN  # q8 inlined: this runs once per bar
        return cls(
            ts,
            Decimal(repr(float(open))).quantize(step, even),
            Decimal(repr(float(high))).quantize(step, even),
            Decimal(repr(float(low))).quantize(step, even),
            Decimal(repr(float(close))).quantize(step, even),
            Decimal(repr(float(volume))),
        )

    @classmethod
    def quote(cls, ts: int, price: Decimal) -> BarPrices:
        """A quote: a one-price bar of volume 0."""
        return cls(ts, price, price, price, price, ZERO)


@dataclass(frozen=True, slots=True)
class OrderState:
    """An open order as the fill rules see it.

    ``qty`` is the remaining quantity; ``triggered`` is set once a stop or stop-limit has
    triggered; ``session_date`` (day orders) is the UTC date of the order's first
    eligible event; ``hold`` is the cash currently held for this order (buys).
    """

    order_id: str
    side: Side
    type: OrderType
    tif: TimeInForce
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    triggered: bool
    session_date: date | None
    hold: Decimal

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"order {self.order_id}: qty must be > 0")
        if self.hold < 0:
            raise ValueError(f"order {self.order_id}: hold must be >= 0")
        if self.type in ("limit", "stop_limit") and self.limit_price is None:
            raise ValueError(f"order {self.order_id}: a {self.type} order needs limit_price")
        if self.type in ("stop", "stop_limit") and self.stop_price is None:
            raise ValueError(f"order {self.order_id}: a {self.type} order needs stop_price")


@dataclass(frozen=True, slots=True)
class AccountBook:
    """What the account can spend beyond each order's own hold, and its fill model."""

    free_cash: Decimal
    model: FillModel


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill: ``notional = qty * price`` and ``fee``, both quantized to 8 decimals."""

    order_id: str
    qty: Decimal
    price: Decimal
    notional: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """What one market event did to one order.

    ``status`` "open" means still resting (maybe after a partial ``fill``); "filled",
    "canceled" and "expired" end the order (``reason`` says why for the last two).
    ``triggered`` and ``session_date`` are the order's new values. ``hold_release`` is
    the cash of this order's hold to release: for a buy fill the hold's share of the
    filled part (more if the fill cost more than that share and free cash could not
    cover the difference), and all of it when the order ends.
    """

    order_id: str
    fill: Fill | None
    status: OutcomeStatus
    triggered: bool
    session_date: date | None
    reason: str | None
    hold_release: Decimal
