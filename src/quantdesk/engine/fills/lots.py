"""Positions as FIFO lots, realized P&L, and a position's figures at a price.

A position is a sequence of lots, oldest first; every lot has the sign of the
position (long lots positive, short lots negative). A fill first closes lots of the
opposite sign, first in first out (the oldest lot first, partially if it is larger than
what is left to close); whatever remains of the fill opens a new lot at the fill price,
at the end. So a sell larger than a long position closes it and opens a short (a flip).

Amounts are 8-decimal ``Decimal``: a lot's cost is ``q8(qty * price)`` (negative for a
short lot) and the position's cost basis is the sum of its lots' costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from quantdesk.engine.fills.orders import ZERO, Side, q8


@dataclass(frozen=True, slots=True)
class Lot:
    """An open lot: ``qty`` (negative for a short lot) opened by ``fill_id`` at ``price``."""

    fill_id: str
    qty: Decimal
    price: Decimal

    @property
    def cost(self) -> Decimal:
        """``qty * price`` at 8 decimals (negative for a short lot)."""
        return q8(self.qty * self.price)


@dataclass(frozen=True, slots=True)
class LotUpdate:
    """The lots after a fill, and what the fill did to the books.

    ``cost_closed`` is the drop in the closed lots' costs and ``cost_opened`` the new
    lot's cost (both signed: negative for short lots), so the securities book moves by
    ``cost_opened - cost_closed`` and always equals the sum of the open lots' costs.
    ``realized_pnl`` is (exit - entry) x closed quantity for long lots and (entry - exit)
    x closed quantity for short lots, computed as ``cash + cost_opened - cost_closed``
    (cash = +notional for a sell, -notional for a buy, fees apart) so that the fill's
    ledger legs (cash, securities, realized P&L) sum to exactly zero.
    """

    lots: tuple[Lot, ...]
    realized_pnl: Decimal
    cost_closed: Decimal
    cost_opened: Decimal


def apply_fill_to_lots(
    lots: Sequence[Lot], fill_id: str, side: Side, qty: Decimal, price: Decimal
) -> LotUpdate:
    """Apply a fill of ``qty`` (> 0) at ``price`` to ``lots`` (oldest first), FIFO.

    The fill closes lots of the opposite sign first-in-first-out; the remainder opens a
    new lot ``Lot(fill_id, +-remainder, price)`` at the end.
    """
    if qty <= 0:
        raise ValueError("a fill's qty must be > 0")
    signed = qty if side == "buy" else -qty
    left = qty  # still to close, then to open
    kept: list[Lot] = []
    cost_closed = ZERO
    for lot in lots:
        closing = left > 0 and (lot.qty > 0) != (signed > 0)
        if not closing:
            kept.append(lot)
            continue
        size = abs(lot.qty)
        if size <= left:
            cost_closed += lot.cost
            left -= size
            continue
        remaining = Lot(lot.fill_id, lot.qty + (left if lot.qty < 0 else -left), lot.price)
        cost_closed += lot.cost - remaining.cost
        kept.append(remaining)
        left = ZERO
    cost_opened = ZERO
    if left > 0:
        opened = Lot(fill_id, left if signed > 0 else -left, price)
        cost_opened = opened.cost
        kept.append(opened)
    notional = q8(qty * price)
    cash = notional if side == "sell" else -notional
    return LotUpdate(tuple(kept), cash + cost_opened - cost_closed, cost_closed, cost_opened)


@dataclass(frozen=True, slots=True)
class PositionFigures:
    """A position at a price. ``avg_entry_price`` is cost basis / qty (0 when flat);
    ``unrealized_pnl`` = market value - cost basis; ``day_change`` = qty x (last -
    previous close), 0 without a previous close."""

    qty: Decimal
    avg_entry_price: Decimal
    cost_basis: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    day_change: Decimal


def position_figures(
    lots: Sequence[Lot], last_price: Decimal, prev_close: Decimal | None
) -> PositionFigures:
    """Qty, average entry, cost basis, market value, unrealized P&L and day change of the
    position made of ``lots`` at ``last_price`` (8 decimals, signed for shorts)."""
    qty = sum((lot.qty for lot in lots), ZERO)
    cost_basis = sum((lot.cost for lot in lots), ZERO)
    avg = q8(cost_basis / qty) if qty != 0 else ZERO
    market_value = q8(qty * last_price)
    day_change = ZERO if prev_close is None else q8(qty * (last_price - prev_close))
    return PositionFigures(
        qty, avg, cost_basis, market_value, market_value - cost_basis, day_change
    )
