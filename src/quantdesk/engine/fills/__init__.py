"""Paper-desk fill and P&L rules: pure functions of ``Decimal`` values, no I/O.

* ``match_orders(orders, bar, book)``: one account's eligible open orders of one symbol
  against one market event (a bar, or a quote as a one-price bar of volume 0) - the
  price rules (``rules``), participation cap, ioc/fok, day expiry, fees and cash.
* ``estimate_hold(...)``: the cash an open buy order holds.
* ``apply_fill_to_lots(...)`` / ``position_figures(...)``: FIFO lots, realized and
  unrealized P&L, day change.
* ``RestingBook``: many resting gtc orders of one symbol, matched bar by bar with an
  O(1) path for bars that reach none of them (same rule functions).

Money, prices and quantities are ``Decimal``; amounts are quantized to 8 decimals
(ROUND_HALF_EVEN) unless a docstring says otherwise.
"""

from __future__ import annotations

from quantdesk.engine.fills.lots import (
    Lot,
    LotUpdate,
    PositionFigures,
    apply_fill_to_lots,
    position_figures,
)
from quantdesk.engine.fills.matching import estimate_hold, match_orders, utc_date
from quantdesk.engine.fills.orders import (
    DAY_SESSION_ENDED,
    FOK_NOT_FILLED,
    INSUFFICIENT_BUYING_POWER,
    IOC_REMAINDER,
    AccountBook,
    BarPrices,
    Fill,
    FillModel,
    OrderOutcome,
    OrderState,
    OrderType,
    OutcomeStatus,
    Side,
    TimeInForce,
    q8,
)
from quantdesk.engine.fills.resting import RestingBook
from quantdesk.engine.fills.rules import FillOutsideBarError, fee_for, fill_price

__all__ = [
    "DAY_SESSION_ENDED",
    "FOK_NOT_FILLED",
    "INSUFFICIENT_BUYING_POWER",
    "IOC_REMAINDER",
    "AccountBook",
    "BarPrices",
    "Fill",
    "FillModel",
    "FillOutsideBarError",
    "Lot",
    "LotUpdate",
    "OrderOutcome",
    "OrderState",
    "OrderType",
    "OutcomeStatus",
    "PositionFigures",
    "RestingBook",
    "Side",
    "TimeInForce",
    "apply_fill_to_lots",
    "estimate_hold",
    "fee_for",
    "fill_price",
    "match_orders",
    "position_figures",
    "q8",
    "utc_date",
]
