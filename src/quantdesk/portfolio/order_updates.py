"""`OrderUpdate` events of order transitions (emitted with `infra.events.emit`: the webhooks
outbox sees them in the transaction, the bus once it commits)."""

from __future__ import annotations

from quantdesk.engine.fills import Fill
from quantdesk.models.portfolio import PaperOrder
from quantdesk.portfolio.events import OrderUpdate
from quantdesk.portfolio.money import money_str


def order_update(
    order: PaperOrder,
    event: str,
    *,
    fill: Fill | None = None,
    market_ts: int | None = None,
    reason: str | None = None,
) -> OrderUpdate:
    """The order's state after `event`; a fill's qty and price when one happened. Market time
    and reason default to the order's acceptance time and reject reason."""
    return OrderUpdate(
        account_id=order.account_id,
        order_id=order.id,
        event=event,
        status=order.status.value,
        symbol=order.symbol,
        side=order.side.value,
        qty=money_str(order.qty),
        filled_qty=money_str(order.filled_qty),
        filled_avg_price=(
            money_str(order.filled_avg_price) if order.filled_avg_price is not None else None
        ),
        fill_qty=None if fill is None else money_str(fill.qty),
        fill_price=None if fill is None else money_str(fill.price),
        market_ts=order.accepted_market_ts if market_ts is None else market_ts,
        reason=order.reject_reason if reason is None else reason,
    )
