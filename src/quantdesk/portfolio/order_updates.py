"""`OrderUpdate` events of order transitions, published once the transaction commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import after_commit_async
from quantdesk.engine.fills import Fill
from quantdesk.infra.events import EventBus
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


def publish_after_commit(
    session: AsyncSession, events: EventBus | None, updates: Sequence[OrderUpdate]
) -> None:
    """Publish `updates`, in order, once this transaction commits (never on rollback)."""
    if events is None or not updates:
        return
    bus, batch = events, list(updates)

    async def publish() -> None:
        for update in batch:
            await bus.publish(update.topic, update)

    after_commit_async(session, publish)
