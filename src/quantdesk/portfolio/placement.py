"""The steps of placing one order, shared by a single placement (`OrderService.place`, a
replace) and a batch of them (`order_batch.place_batch`): find a twin under the same
Idempotency-Key or client_order_id, run the pre-trade checks, build the order row. Nothing
here writes; the caller adds the order, then stages and posts its hold.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.audit.service import AuditRecord
from quantdesk.config import Settings
from quantdesk.models.base import utcnow
from quantdesk.models.portfolio import EntryKind, OrderStatus, PaperAccount, PaperOrder
from quantdesk.portfolio import ledger
from quantdesk.portfolio.accounts import ensure_open
from quantdesk.portfolio.money import money_str
from quantdesk.portfolio.order_checks import MarketContext, market_context, pre_trade
from quantdesk.portfolio.order_errors import ClientOrderIdReused, IdempotencyKeyReused
from quantdesk.portfolio.order_repository import OrderRepository
from quantdesk.portfolio.order_schemas import OrderCreate


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """The order and whether this call created it (False: an idempotent replay)."""

    order: PaperOrder
    created: bool


@dataclass(frozen=True, slots=True)
class Accepted:
    """A placement's outcome before anything is written: a new order (accepted or rejected)
    or the stored twin it repeats (`result.created` False)."""

    result: PlaceResult

    def stage_hold(self, account: PaperAccount) -> ledger.StagedEntry | None:
        """Stage the new order's hold on `account` (its balances move at once), if any."""
        order = self.result.order
        if not self.result.created or order.hold <= 0:
            return None
        return ledger.stage(
            account,
            EntryKind.HOLD,
            [ledger.Leg(ledger.CASH, -order.hold), ledger.Leg(ledger.HELD, order.hold)],
            order_id=order.id,
            memo=f"hold for {order.side.value} {order.qty} {order.symbol}",
            market_ts=order.accepted_market_ts,
        )


class Twins:
    """Orders a placement may repeat, by `(account_id, Idempotency-Key)` and
    `(account_id, client_order_id)`: those stored before (looked up one by one, or preloaded
    for a batch with `preload`) and those placed in this transaction (`add`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._preloaded = False
        self._by_key: dict[tuple[str, str], PaperOrder] = {}
        self._by_client_id: dict[tuple[str, str], PaperOrder] = {}

    async def preload(self, wanted: Iterable[tuple[str, str | None, str | None]]) -> None:
        """Load in one query every stored order matching one of `(account_id,
        idempotency_key, client_order_id)`."""
        accounts, keys, client_ids = set(), set(), set()
        for account_id, key, client_id in wanted:
            accounts.add(account_id)
            if key is not None:
                keys.add(key)
            if client_id is not None:
                client_ids.add(client_id)
        self._preloaded = True
        if not keys and not client_ids:
            return
        found = await self._session.scalars(
            select(PaperOrder).where(
                PaperOrder.account_id.in_(accounts),
                or_(
                    PaperOrder.idempotency_key.in_(keys),
                    PaperOrder.client_order_id.in_(client_ids),
                ),
            )
        )
        for order in found:
            self.add(order)

    def add(self, order: PaperOrder) -> None:
        if order.idempotency_key is not None:
            self._by_key.setdefault((order.account_id, order.idempotency_key), order)
        if order.client_order_id is not None:
            self._by_client_id.setdefault((order.account_id, order.client_order_id), order)

    async def find(
        self, account: PaperAccount, body: OrderCreate, key: str | None, request_hash: str
    ) -> PaperOrder | None:
        """The twin of this request, or None; a twin of a different request is a 422 naming
        the header (IdempotencyKeyReused) or a 409 naming client_order_id."""
        if key is not None:
            found = await self._lookup(self._by_key, account.id, key, by_key=True)
            if found is not None:
                if found.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                return found
        if body.client_order_id is not None:
            client_id = body.client_order_id
            found = await self._lookup(self._by_client_id, account.id, client_id, by_key=False)
            if found is not None:
                if found.request_hash != request_hash:
                    raise ClientOrderIdReused(client_id)
                return found
        return None

    async def _lookup(
        self,
        known: dict[tuple[str, str], PaperOrder],
        account_id: str,
        value: str,
        *,
        by_key: bool,
    ) -> PaperOrder | None:
        found = known.get((account_id, value))
        if found is not None or self._preloaded:
            return found
        orders = OrderRepository(self._session)
        if by_key:
            return await orders.by_idempotency_key(account_id, value)
        return await orders.by_client_order_id(account_id, value)


class Markets:
    """`market_context` of each symbol, read once per transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._known: dict[str, MarketContext] = {}

    async def get(self, symbol: str) -> MarketContext:
        known = self._known.get(symbol)
        if known is None:
            known = self._known[symbol] = await market_context(self._session, symbol)
        return known


@dataclass(slots=True)
class PlacementContext:
    """What the placements of one transaction share."""

    session: AsyncSession
    settings: Settings
    twins: Twins = field(init=False)
    markets: Markets = field(init=False)

    def __post_init__(self) -> None:
        self.twins = Twins(self.session)
        self.markets = Markets(self.session)


async def accept(
    context: PlacementContext,
    account: PaperAccount,
    body: OrderCreate,
    *,
    idempotency_key: str | None,
    replaces: str | None = None,
) -> Accepted:
    """Decide one placement on `account` (locked by the caller): its twin, or a new order
    (accepted or rejected by the pre-trade checks) holding `order.hold`, which the caller
    stages (`Accepted.stage_hold`) and posts."""
    ensure_open(account)
    request_hash = body.request_hash()
    twin = await context.twins.find(account, body, idempotency_key, request_hash)
    if twin is not None:
        return Accepted(PlaceResult(twin, False))
    market = await context.markets.get(body.symbol)
    verdict = await pre_trade(context.session, context.settings, account, body, market)
    now = utcnow()
    order = PaperOrder(
        id=secrets.token_hex(16),
        account_id=account.id,
        client_order_id=body.client_order_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        symbol=body.symbol,
        side=body.side,
        type=body.type,
        time_in_force=body.time_in_force,
        qty=body.qty,
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        status=OrderStatus.NEW if verdict.accepted else OrderStatus.REJECTED,
        filled_qty=Decimal(0),
        filled_notional=Decimal(0),
        fees=Decimal(0),
        hold=verdict.hold,  # the caller stages and posts it in this transaction
        triggered=False,
        session_date=None,
        filled_avg_price=None,
        accepted_seq=market.seq,
        accepted_market_ts=market.ts,
        reject_reason=verdict.reject_reason,
        reason_detail=verdict.detail,
        replaces=replaces,
        created_at=now,
        updated_at=now,
        rejected_at=None if verdict.accepted else now,
    )
    context.twins.add(order)
    return Accepted(PlaceResult(order, True))


def order_audit(
    action: str,
    order: PaperOrder,
    account: PaperAccount,
    actor: Principal | None,
    extra: dict[str, str] | None = None,
) -> AuditRecord:
    """The audit record of an order's creation, cancel or replace."""
    return AuditRecord(
        action=action,
        outcome="rejected" if order.status is OrderStatus.REJECTED else "success",
        actor=actor,
        user_id=account.user_id,
        resource_type="paper_order",
        resource_id=order.id,
        details={
            "account_id": account.id,
            "symbol": order.symbol,
            "side": order.side.value,
            "type": order.type.value,
            "qty": money_str(order.qty),
            "status": order.status.value,
            "hold": money_str(order.hold),
            "reject_reason": order.reject_reason,
            **(extra or {}),
        },
    )


def placed_event(result: PlaceResult) -> str:
    """The order_update event of a new order: accepted or rejected."""
    return "rejected" if result.order.status is OrderStatus.REJECTED else "accepted"
