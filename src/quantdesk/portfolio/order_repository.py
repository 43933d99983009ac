"""SQL for paper orders. Every read names the account, whose ownership the service checked:
an order of another account is simply not found."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select, type_coerce

from quantdesk.kit.repository import Repository
from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    Fixed8,
    OrderSide,
    OrderStatus,
    PaperOrder,
    PaperPosition,
)

ZERO = Decimal(0)


class OrderRepository(Repository[PaperOrder]):
    model = PaperOrder

    async def of_account(self, account_id: str, order_id: str) -> PaperOrder | None:
        """The order as stored now (an object already in the session is refreshed)."""
        return await self.session.scalar(
            select(PaperOrder)
            .where(PaperOrder.id == order_id, PaperOrder.account_id == account_id)
            .execution_options(populate_existing=True)
        )

    async def by_idempotency_key(self, account_id: str, key: str) -> PaperOrder | None:
        return await self.session.scalar(
            select(PaperOrder).where(
                PaperOrder.account_id == account_id, PaperOrder.idempotency_key == key
            )
        )

    async def by_client_order_id(self, account_id: str, client_order_id: str) -> PaperOrder | None:
        return await self.session.scalar(
            select(PaperOrder).where(
                PaperOrder.account_id == account_id,
                PaperOrder.client_order_id == client_order_id,
            )
        )

    async def page(
        self,
        account_id: str,
        *,
        statuses: Collection[OrderStatus] | None,
        symbol: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[PaperOrder]:
        """Up to `limit` orders of the account, newest first (created_at, then id,
        descending), after the `(created_at, id)` of the last order served."""
        statement = (
            select(PaperOrder)
            .where(PaperOrder.account_id == account_id)
            .order_by(PaperOrder.created_at.desc(), PaperOrder.id.desc())
            .limit(limit)
        )
        if statuses is not None:
            statement = statement.where(PaperOrder.status.in_(list(statuses)))
        if symbol is not None:
            statement = statement.where(PaperOrder.symbol == symbol)
        if after is not None:
            created, order_id = after
            statement = statement.where(
                or_(
                    PaperOrder.created_at < created,
                    and_(PaperOrder.created_at == created, PaperOrder.id < order_id),
                )
            )
        return list((await self.session.execute(statement)).scalars())

    async def open_sell_qty(self, account_id: str, symbol: str) -> Decimal:
        """The quantity the account's open sell orders of `symbol` may still sell."""
        remaining = type_coerce(func.sum(PaperOrder.qty - PaperOrder.filled_qty), Fixed8())
        total = await self.session.scalar(
            select(remaining).where(
                PaperOrder.account_id == account_id,
                PaperOrder.symbol == symbol,
                PaperOrder.side == OrderSide.SELL,
                PaperOrder.status.in_(OPEN_ORDER_STATUSES),
            )
        )
        return total if total is not None else ZERO

    async def position_qty(self, account_id: str, symbol: str) -> Decimal:
        """The account's net position in `symbol` (negative when short, 0 when none)."""
        qty = await self.session.scalar(
            select(PaperPosition.qty).where(
                PaperPosition.account_id == account_id, PaperPosition.symbol == symbol
            )
        )
        return qty if qty is not None else ZERO
