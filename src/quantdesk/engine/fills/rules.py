"""The price rules: at what price (if any) an order fills on one market event.

One implementation, used by ``match_orders`` and by ``RestingBook``. For bar B =
(open, high, low, close):

* market: open +/- slippage (buy +, sell -, ``slippage_bps`` of the open), clamped into
  [low, high].
* limit buy: fills when low <= limit, at min(limit, open); limit sell: when high >=
  limit, at max(limit, open). Never beyond the limit; no slippage.
* stop buy: triggers when high >= stop, fills at the open if the open gapped through
  the stop (open >= stop), else at the stop; then + slippage, clamped into [low, high].
  Sell stop: the mirror (low <= stop, open <= stop, - slippage). A triggered stop whose
  quantity could not (all) fill stays triggered and fills later as a market order.
* stop_limit: when the stop triggers on B the order becomes a limit (``triggered``);
  its limit part is evaluated from the NEXT event, never on the triggering bar.

Every fill price is quantized to 8 decimals and lies within [low, high]; the rules check
it and raise ``FillOutsideBarError`` if not (a bug, never a market condition).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Final

from quantdesk.engine.fills.orders import (
    EIGHT_DP,
    ZERO,
    BarPrices,
    Fill,
    FillModel,
    OrderState,
    Side,
    q8,
)

BPS: Final = Decimal(10_000)


class FillOutsideBarError(AssertionError):
    """A computed fill price lies outside the bar's [low, high] or beyond its limit."""


def fee_for(notional: Decimal, model: FillModel) -> Decimal:
    """A fill's fee: ``max(fee_min, notional * fee_bps / 10_000)``, 8 decimals."""
    if not model.fee_bps:
        return q8(model.fee_min)
    return q8(max(model.fee_min, notional * model.fee_bps / BPS))


def make_fill(order_id: str, qty: Decimal, price: Decimal, model: FillModel) -> Fill:
    """The fill of ``qty`` at ``price``: notional and fee quantized to 8 decimals."""
    notional = (qty * price).quantize(EIGHT_DP, ROUND_HALF_EVEN)
    return Fill(order_id, qty, price, notional, fee_for(notional, model))


def clamp(price: Decimal, bar: BarPrices) -> Decimal:
    """``price`` moved into the bar's [low, high]."""
    return min(max(price, bar.low), bar.high)


def check_within(price: Decimal, bar: BarPrices, limit: Decimal | None, side: Side) -> Decimal:
    """``price`` itself, after checking it lies within [low, high] and not beyond
    ``limit`` (if given); raises ``FillOutsideBarError`` otherwise."""
    if not bar.low <= price <= bar.high:
        raise FillOutsideBarError(
            f"fill price {price} outside bar [{bar.low}, {bar.high}] at ts={bar.ts}"
        )
    if limit is not None and (price > limit if side == "buy" else price < limit):
        raise FillOutsideBarError(f"{side} fill price {price} beyond its limit {limit}")
    return price


def slipped(side: Side, base: Decimal, slippage_bps: Decimal, bar: BarPrices) -> Decimal:
    """``base`` moved against the trader by ``slippage_bps`` of itself, quantized to 8
    decimals and clamped into [low, high]."""
    move = base * slippage_bps / BPS
    return clamp(q8(base + move if side == "buy" else base - move), bar)


def market_price(side: Side, bar: BarPrices, slippage_bps: Decimal) -> Decimal:
    """A market order's fill price: the open +/- slippage, within [low, high]."""
    return check_within(slipped(side, bar.open, slippage_bps, bar), bar, None, side)


def limit_price(side: Side, limit: Decimal, bar: BarPrices) -> Decimal | None:
    """A limit order's fill price on ``bar``, or None when the bar does not reach it."""
    if side == "buy":
        price = min(limit, bar.open) if bar.low <= limit else None
    else:
        price = max(limit, bar.open) if bar.high >= limit else None
    return None if price is None else check_within(price, bar, limit, side)


def stop_triggers(side: Side, stop: Decimal, bar: BarPrices) -> bool:
    """Whether ``bar`` triggers a stop: buy when high >= stop, sell when low <= stop."""
    return bar.high >= stop if side == "buy" else bar.low <= stop


def stop_price(side: Side, stop: Decimal, bar: BarPrices, slippage_bps: Decimal) -> Decimal:
    """A stop's fill price on the bar that triggers it: the open on a gap through the
    stop, else the stop; then +/- slippage within [low, high]."""
    gapped = bar.open >= stop if side == "buy" else bar.open <= stop
    base = bar.open if gapped else stop
    return check_within(slipped(side, base, slippage_bps, bar), bar, None, side)


def fill_price(order: OrderState, bar: BarPrices, model: FillModel) -> tuple[Decimal | None, bool]:
    """The price ``order`` fills at on ``bar`` (None: it does not fill on this bar),
    quantity and cash aside, and its ``triggered`` flag after the bar."""
    slippage = model.slippage_bps
    if order.type == "market":
        return market_price(order.side, bar, slippage), order.triggered
    if order.type == "limit":
        assert order.limit_price is not None  # OrderState checks it
        return limit_price(order.side, order.limit_price, bar), order.triggered
    assert order.stop_price is not None  # stop and stop_limit: OrderState checks it
    if order.type == "stop":
        if order.triggered:  # triggered earlier, not (all) filled: now a market order
            return market_price(order.side, bar, slippage), True
        if stop_triggers(order.side, order.stop_price, bar):
            return stop_price(order.side, order.stop_price, bar, slippage), True
        return None, False
    assert order.limit_price is not None
    if order.triggered:
        return limit_price(order.side, order.limit_price, bar), True
    return None, stop_triggers(order.side, order.stop_price, bar)


def floor_qty(qty: Decimal, model: FillModel) -> Decimal:
    """``qty`` rounded down to the model's quantity precision (never below zero)."""
    if qty <= 0:
        return ZERO
    return qty.quantize(model.qty_step, rounding=ROUND_DOWN)
