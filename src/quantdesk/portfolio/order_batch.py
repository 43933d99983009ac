"""Group commit of order placements (docs/paper-trading.md, "Placement throughput").

`POST /accounts/{id}/orders` hands its placement to the process's `PlacementBatcher`. While
one batch is being written, new placements queue; the next batch takes all of them (up to
`MAX_BATCH`) and places them in ONE transaction with one statement per step whatever their
number: lock the accounts, look up Idempotency-Key twins, read each symbol's market once,
insert the orders, insert and post the holds, append the audit records. Each placement
still gets exactly the answer it would get alone: the checks run one placement after
another in arrival order against the balances the previous ones left, and a duplicate key
within a batch finds its twin placed earlier in it.

A placement's own refusal (account not found or closed, a reused key) touches nothing and
is that placement's answer only. If the batch transaction itself fails (a constraint, a
deadlock, a lost connection), it rolls back and every placement of it is retried alone
through `OrderService.place`, so one bad placement never fails its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.audit.service import AuditRecord, audit_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import AppError
from quantdesk.infra.events import EventBus, emit
from quantdesk.models.portfolio import OrderSide, PaperOrder
from quantdesk.observability.logging import get_logger
from quantdesk.portfolio import ledger
from quantdesk.portfolio.accounts import AccountNotFound, account_service
from quantdesk.portfolio.events import OrderUpdate
from quantdesk.portfolio.order_schemas import OrderCreate
from quantdesk.portfolio.order_updates import order_update
from quantdesk.portfolio.orders import order_service
from quantdesk.portfolio.placement import (
    PlacementContext,
    PlaceResult,
    accept,
    order_audit,
    placed_event,
)

log = get_logger("quantdesk.portfolio.order_batch")

# Enough to amortize a batch's fixed statements; small enough that one batch's transaction
# stays short (a few milliseconds) for the desk and other writers waiting on the lock.
MAX_BATCH = 64


@dataclass(frozen=True, slots=True)
class Placement:
    """One `POST /orders`: whose, on which account, what, under which Idempotency-Key."""

    user_id: int
    account_id: str
    body: OrderCreate
    idempotency_key: str | None = None
    actor: Principal | None = None


Outcome = PlaceResult | AppError


async def place_batch(
    session: AsyncSession,
    settings: Settings,
    placements: Sequence[Placement],
    events: EventBus | None = None,
) -> list[Outcome]:
    """Place `placements` in arrival order in this transaction; answers each one's result,
    or the AppError that refused it (nothing of it written)."""
    accounts = await account_service.lock_many(
        session, [(item.user_id, item.account_id) for item in placements]
    )
    context = PlacementContext(session, settings)
    await context.twins.preload(
        (item.account_id, item.idempotency_key, item.body.client_order_id) for item in placements
    )
    outcomes: list[Outcome] = []
    orders: list[PaperOrder] = []  # placed and not yet inserted
    holds: list[ledger.StagedEntry] = []
    audits: list[AuditRecord] = []
    updates: list[OrderUpdate] = []
    for item in placements:
        account = accounts.get(item.account_id)
        try:
            if account is None:
                raise AccountNotFound(item.account_id)
            if item.body.side is OrderSide.SELL:  # its checks read the open orders
                await _insert(session, orders)
            accepted = await accept(
                context, account, item.body, idempotency_key=item.idempotency_key
            )
        except AppError as refusal:
            outcomes.append(refusal)
            continue
        result = accepted.result
        outcomes.append(result)
        if not result.created:
            continue
        orders.append(result.order)
        hold = accepted.stage_hold(account)  # the next placement sees the balance it left
        if hold is not None:
            holds.append(hold)
        audits.append(order_audit("order.create", result.order, account, item.actor))
        updates.append(order_update(result.order, placed_event(result)))
    await _insert(session, orders)  # the orders, before the entries that name them
    await ledger.post_staged(session, holds)
    await audit_service.record_many(session, audits)
    await emit(session, events, updates)
    return outcomes


_ORDERS = cast(Table, PaperOrder.__table__)
_ORDER_COLUMNS = [column.key for column in _ORDERS.columns]


async def _insert(session: AsyncSession, orders: list[PaperOrder]) -> None:
    """Insert `orders` (objects kept out of the session: read-only copies of the rows) in
    one statement, and empty the list."""
    if orders:
        rows = [{name: getattr(order, name) for name in _ORDER_COLUMNS} for order in orders]
        await session.execute(_ORDERS.insert(), rows)
        orders.clear()


class PlacementBatcher:
    """The process's queue of placements, written one batch per transaction."""

    def __init__(self, db: Database, settings: Settings, events: EventBus | None) -> None:
        self.db = db
        self.settings = settings
        self.events = events
        self._queue: list[tuple[Placement, asyncio.Future[Outcome]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # batches written (tests, metrics)
        self.fallbacks = 0  # batches that failed and were retried placement by placement

    async def place(self, placement: Placement) -> PlaceResult:
        """Queue `placement` and wait for its batch to commit; raises its refusal."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((placement, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # Shielded: a client that hangs up does not cancel the batch its order is in.
        outcome = await asyncio.shield(future)
        if isinstance(outcome, AppError):
            raise outcome
        return outcome

    async def aclose(self) -> None:
        """Wait for the placements already queued (shutdown)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _drain(self) -> None:
        batch: list[tuple[Placement, asyncio.Future[Outcome]]] = []
        try:
            while self._queue:
                batch = self._queue[:MAX_BATCH]
                del self._queue[:MAX_BATCH]
                await self._write_batch(batch)
        except BaseException:  # cancelled (shutdown): nobody waits forever
            for _, future in batch + self._queue:
                if not future.done():
                    future.set_exception(RuntimeError("the server stopped before placing"))
            self._queue.clear()
            raise

    async def _write_batch(self, batch: list[tuple[Placement, asyncio.Future[Outcome]]]) -> None:
        try:
            outcomes = await self._write([placement for placement, _ in batch])
        except Exception as exc:  # the whole batch rolled back: one by one instead
            self.fallbacks += 1
            log.warning("orders.batch_failed", size=len(batch), error=str(exc))
            for placement, future in batch:
                await self._alone(placement, future)
            return
        self.batches += 1
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def _write(self, placements: list[Placement]) -> list[Outcome]:
        async with self.db.serialized_writes(), self.db.session() as session:
            return await place_batch(session, self.settings, placements, self.events)

    async def _alone(self, placement: Placement, future: asyncio.Future[Outcome]) -> None:
        try:
            async with self.db.serialized_writes(), self.db.session() as session:
                account = await account_service.lock_owned(
                    session, placement.user_id, placement.account_id
                )
                outcome: Outcome = await order_service.place(
                    session,
                    self.settings,
                    account=account,
                    body=placement.body,
                    idempotency_key=placement.idempotency_key,
                    actor=placement.actor,
                    events=self.events,
                )
        except AppError as refusal:
            outcome = refusal
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(outcome)
