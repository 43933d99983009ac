"""Orders: placement (idempotent, checked, holding cash for buys), cancel, replace, reads
(docs/paper-trading.md, "Orders"). Fills are the desk's (portfolio/desk.py).

Every write here expects the account already locked in this transaction
(`account_service.lock_owned`, the transaction's first write), so concurrent placements on
one account run one after the other: the balance read by the checks is the balance the hold
is posted against, and a duplicate Idempotency-Key finds the order its twin stored.

A rejected order is recorded (status `rejected`, `reject_reason`) and answered as such; only
malformed requests are refused without a record. Each placement, cancel and replace is in the
audit log and publishes an `OrderUpdate` once the transaction commits.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.audit.service import audit_service
from quantdesk.config import Settings
from quantdesk.errors import Unprocessable, field_error
from quantdesk.infra.events import EventBus, emit
from quantdesk.kit.pagination import decode_time_id_cursor, split_page, time_id_key
from quantdesk.models.base import utcnow
from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    EntryKind,
    OrderStatus,
    PaperAccount,
    PaperOrder,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.order_errors import (
    ClientOrderIdReused,
    OrderNotFound,
    OrderNotOpen,
    ReplaceRejected,
)
from quantdesk.portfolio.order_repository import OrderRepository
from quantdesk.portfolio.order_schemas import (
    OrderCreate,
    OrderRead,
    OrderReplace,
    StatusFilter,
    order_read,
    price_field_error,
)
from quantdesk.portfolio.order_updates import order_update
from quantdesk.portfolio.placement import (
    PlacementContext,
    PlaceResult,
    Twins,
    accept,
    order_audit,
    placed_event,
)

__all__ = [
    "OrderRead",
    "OrderService",
    "PlaceResult",
    "order_read",
    "order_service",
    "order_update",
]

CLOSED_STATUSES = tuple(status for status in OrderStatus if status not in OPEN_ORDER_STATUSES)


class OrderService:
    # --- placing ---------------------------------------------------------------------
    async def place(
        self,
        session: AsyncSession,
        settings: Settings,
        *,
        account: PaperAccount,
        body: OrderCreate,
        idempotency_key: str | None = None,
        actor: Principal | None = None,
        events: EventBus | None = None,
    ) -> PlaceResult:
        """Place `body` on `account` (locked by the caller in this transaction).

        An order already stored under the same Idempotency-Key (or client_order_id) with the
        same request is answered again (created False); with a different request it is a
        422 naming the header (a 409 naming client_order_id)."""
        result = await self._place(
            session, settings, account, body, idempotency_key=idempotency_key
        )
        if result.created:
            await self._audit(session, "order.create", result.order, account, actor)
            await emit(session, events, [order_update(result.order, placed_event(result))])
        return result

    async def _place(
        self,
        session: AsyncSession,
        settings: Settings,
        account: PaperAccount,
        body: OrderCreate,
        *,
        idempotency_key: str | None,
        replaces: str | None = None,
    ) -> PlaceResult:
        context = PlacementContext(session, settings)
        accepted = await accept(
            context, account, body, idempotency_key=idempotency_key, replaces=replaces
        )
        if not accepted.result.created:
            return accepted.result
        order = accepted.result.order
        try:
            async with session.begin_nested():
                session.add(order)
        except IntegrityError:
            # Unreachable while placements hold the account lock; kept so that a caller that
            # forgot it gets the stored twin (or a clear refusal), never a 500.
            stored = await Twins(session).find(account, body, idempotency_key, body.request_hash())
            if stored is None:
                raise
            return PlaceResult(stored, False)
        hold = accepted.stage_hold(account)  # after the insert: the account's first change
        if hold is not None:
            await ledger.post_staged(session, [hold])
        await session.flush()
        return accepted.result

    # --- reading ---------------------------------------------------------------------
    async def get(self, session: AsyncSession, account: PaperAccount, order_id: str) -> PaperOrder:
        order = await OrderRepository(session).of_account(account.id, order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def page(
        self,
        session: AsyncSession,
        account: PaperAccount,
        *,
        status: StatusFilter | None = None,
        symbol: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[PaperOrder], str | None]:
        """A page of the account's orders, newest first; `status` is one status, `open`
        (new, partially_filled) or `closed` (every other)."""
        statuses: tuple[OrderStatus, ...] | None = None
        if status is StatusFilter.OPEN:
            statuses = OPEN_ORDER_STATUSES
        elif status is StatusFilter.CLOSED:
            statuses = CLOSED_STATUSES
        elif status is not None:
            statuses = (OrderStatus(status.value),)
        rows = await OrderRepository(session).page(
            account.id,
            statuses=statuses,
            symbol=symbol,
            after=decode_time_id_cursor(cursor) if cursor is not None else None,
            limit=limit + 1,
        )
        return split_page(rows, limit, key=_key)

    # --- canceling and replacing -----------------------------------------------------
    async def cancel(
        self,
        session: AsyncSession,
        *,
        account: PaperAccount,
        order_id: str,
        actor: Principal | None = None,
        events: EventBus | None = None,
        reason: str | None = None,
    ) -> PaperOrder:
        """Cancel an open order of `account` (locked): status canceled, its remaining hold
        released. A closed order is a 409 `order-not-open`."""
        order = await self._open(session, account, order_id)
        await self.release_hold(session, account, order, memo="cancel")
        now = utcnow()
        order.status = OrderStatus.CANCELED
        order.canceled_at = now
        order.updated_at = now
        if reason is not None:
            order.reason_detail = reason
        await session.flush()
        await self._audit(session, "order.cancel", order, account, actor)
        await emit(session, events, [order_update(order, "canceled")])
        return order

    async def replace(
        self,
        session: AsyncSession,
        settings: Settings,
        *,
        account: PaperAccount,
        order_id: str,
        body: OrderReplace,
        actor: Principal | None = None,
        events: EventBus | None = None,
    ) -> PlaceResult:
        """Alpaca-style replace of an open order of `account` (locked): the old order ends
        `replaced` (its hold released) and a new order with the changes is placed, `replaces`
        naming the old one. `qty` is the new order's whole quantity (default: what the old
        one had left). If the new order would be rejected, ReplaceRejected: the caller rolls
        back and the old order stays as it was."""
        old = await self._open(session, account, order_id)
        for field in ("limit_price", "stop_price"):
            if field in body.model_fields_set:
                problem = price_field_error(old.type, field, getattr(body, field))
                if problem is not None:
                    raise Unprocessable(problem, errors=[field_error(["body", field], problem)])
        fields = body.model_fields_set
        terms = OrderCreate.model_validate(
            {
                "symbol": old.symbol,
                "side": old.side,
                "type": old.type,
                "qty": body.qty if "qty" in fields else old.qty - old.filled_qty,
                "limit_price": body.limit_price if "limit_price" in fields else old.limit_price,
                "stop_price": body.stop_price if "stop_price" in fields else old.stop_price,
                "time_in_force": body.time_in_force or old.time_in_force,
                "client_order_id": body.client_order_id,
            }
        )
        await self.release_hold(session, account, old, memo="replace")
        now = utcnow()
        old.status = OrderStatus.REPLACED
        old.replaced_at = now
        old.updated_at = now
        await session.flush()
        result = await self._place(
            session, settings, account, terms, idempotency_key=None, replaces=old.id
        )
        new = result.order
        if not result.created:  # client_order_id of an identical earlier order
            raise ClientOrderIdReused(terms.client_order_id or "")
        if new.status is OrderStatus.REJECTED:
            raise ReplaceRejected(old.id, new.reject_reason or "", new.reason_detail or "")
        old.replaced_by = new.id
        await session.flush()
        await self._audit(session, "order.replace", new, account, actor, extra={"replaces": old.id})
        await emit(session, events, [order_update(old, "replaced"), order_update(new, "accepted")])
        return result

    async def release_hold(
        self, session: AsyncSession, account: PaperAccount, order: PaperOrder, *, memo: str
    ) -> None:
        """Give the cash still held for `order` back to free cash (a `release` entry)."""
        held = order.hold
        if held <= 0:
            return
        await ledger.post(
            session,
            account,
            EntryKind.RELEASE,
            [ledger.Leg(ledger.HELD, -held), ledger.Leg(ledger.CASH, held)],
            order_id=order.id,
            memo=f"release on {memo}",
        )
        order.hold = Decimal(0)

    async def _open(
        self, session: AsyncSession, account: PaperAccount, order_id: str
    ) -> PaperOrder:
        order = await self.get(session, account, order_id)
        if order.status not in OPEN_ORDER_STATUSES:
            raise OrderNotOpen(order)
        return order

    async def _audit(
        self,
        session: AsyncSession,
        action: str,
        order: PaperOrder,
        account: PaperAccount,
        actor: Principal | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        await audit_service.record_many(
            session, [order_audit(action, order, account, actor, extra)]
        )


def _key(order: PaperOrder) -> str:
    return time_id_key(order.created_at, order.id)


order_service = OrderService()
