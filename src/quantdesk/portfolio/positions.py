"""Positions, the account summary and the equity history (docs/paper-trading.md, "Positions
and P&L").

A position's figures come from its open FIFO lots (`position_lots`) through the engine's
`position_figures`, at the symbol's last price from the desk's market clock (the close of the
latest market event processed; the average entry price while the desk has none) and the
previous market day's close (`day_change`). Realized P&L is the position row's running sum.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.config import Settings
from quantdesk.engine.fills import Lot, position_figures, q8
from quantdesk.errors import NotFound
from quantdesk.infra.events import EventBus
from quantdesk.models.portfolio import (
    OPEN_ORDER_STATUSES,
    EquityPoint,
    OrderSide,
    OrderType,
    PaperAccount,
    PaperOrder,
    PaperPosition,
    PositionLot,
    TimeInForce,
)
from quantdesk.portfolio.accounts import account_service
from quantdesk.portfolio.clock import last_prices
from quantdesk.portfolio.desk_equity import DAY, net_deposits
from quantdesk.portfolio.order_schemas import OrderCreate
from quantdesk.portfolio.orders import PlaceResult, order_service
from quantdesk.portfolio.performance import performance
from quantdesk.portfolio.position_schemas import (
    EquityHistory,
    PositionRead,
    SummaryRead,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)


class PositionNotFound(NotFound):
    code = "position-not-found"

    def __init__(self, symbol: str) -> None:
        super().__init__(f"no open position in {symbol!r}")


async def _positions(
    session: AsyncSession, account_id: str, symbol: str | None = None
) -> list[PositionRead]:
    query = select(PositionLot).where(PositionLot.account_id == account_id)
    positions = select(PaperPosition).where(PaperPosition.account_id == account_id)
    if symbol is not None:
        query = query.where(PositionLot.symbol == symbol)
        positions = positions.where(PaperPosition.symbol == symbol)
    lots: dict[str, list[Lot]] = defaultdict(list)
    for row in await session.scalars(query.order_by(PositionLot.id)):
        lots[row.symbol].append(Lot(row.fill_id, row.qty, row.price))
    realized = {row.symbol: row.realized_pnl for row in await session.scalars(positions)}
    clocks = await last_prices(session, sorted(lots))
    answer = []
    for name in sorted(lots):
        figures_lots = lots[name]
        market = clocks.get(name)
        prev_close = None if market is None else market.prev_close
        price = None if market is None else market.last_price
        if price is None:  # no market event yet: marked at the average entry
            qty = sum((lot.qty for lot in figures_lots), ZERO)
            price = q8(sum((lot.cost for lot in figures_lots), ZERO) / qty) if qty else ZERO
        figures = position_figures(figures_lots, price, prev_close)
        if figures.qty == 0:
            continue
        basis = abs(figures.cost_basis)
        answer.append(
            PositionRead(
                symbol=name,
                side="long" if figures.qty > 0 else "short",
                qty=figures.qty,
                avg_entry_price=abs(figures.avg_entry_price),
                cost_basis=figures.cost_basis,
                current_price=price,
                lastday_price=prev_close,
                market_value=figures.market_value,
                unrealized_pnl=figures.unrealized_pnl,
                unrealized_pnl_pct=q8(figures.unrealized_pnl / basis * HUNDRED) if basis else ZERO,
                realized_pnl=realized.get(name, ZERO),
                day_change=figures.day_change,
            )
        )
    return answer


class PositionService:
    async def list(
        self, session: AsyncSession, user_id: int, account_id: str
    ) -> list[PositionRead]:
        account = await account_service.get_owned(session, user_id, account_id)
        return await _positions(session, account.id)

    async def get(
        self, session: AsyncSession, user_id: int, account_id: str, symbol: str
    ) -> PositionRead:
        account = await account_service.get_owned(session, user_id, account_id)
        found = await _positions(session, account.id, symbol)
        if not found:
            raise PositionNotFound(symbol)
        return found[0]

    async def close(
        self,
        session: AsyncSession,
        settings: Settings,
        *,
        user_id: int,
        account_id: str,
        symbol: str,
        actor: Principal | None = None,
        events: EventBus | None = None,
    ) -> PlaceResult:
        """Close the position at market: a market order of the opposite side for its whole
        quantity, placed like any order (checks, hold, audit); it fills on the symbol's next
        market event."""
        account = await account_service.lock_owned(session, user_id, account_id)
        position = await session.get(PaperPosition, (account.id, symbol))
        if position is None or position.qty == 0:
            raise PositionNotFound(symbol)
        body = OrderCreate(
            symbol=symbol,
            side=OrderSide.SELL if position.qty > 0 else OrderSide.BUY,
            type=OrderType.MARKET,
            qty=abs(position.qty),
            time_in_force=TimeInForce.GTC,
        )
        return await order_service.place(
            session, settings, account=account, body=body, actor=actor, events=events
        )

    async def summary(self, session: AsyncSession, user_id: int, account_id: str) -> SummaryRead:
        account = await account_service.get_owned(session, user_id, account_id)
        positions = await _positions(session, account.id)
        cash = account.cash + account.held
        equity = cash + sum((p.market_value for p in positions), ZERO)
        deposits = await net_deposits(session, account.id)
        open_orders = await session.scalar(
            select(func.count())
            .select_from(PaperOrder)
            .where(PaperOrder.account_id == account.id, PaperOrder.status.in_(OPEN_ORDER_STATUSES))
        )
        days = await _points(session, account, kinds=(DAY,))
        return SummaryRead(
            account_id=account.id,
            currency=account.currency,
            cash=cash,
            held=account.held,
            free=account.cash,
            equity=equity,
            exposure=sum((abs(p.market_value) for p in positions), ZERO),
            day_pnl=sum((p.day_change for p in positions), ZERO),
            total_pnl=equity - deposits,
            net_deposits=deposits,
            open_orders=int(open_orders or 0),
            positions=len(positions),
            performance=performance(
                [point.ts for point in days], [point.equity for point in days], deposits
            ),
        )

    async def equity(
        self, session: AsyncSession, user_id: int, account_id: str, timeframe: str = "1d"
    ) -> EquityHistory:
        account = await account_service.get_owned(session, user_id, account_id)
        points = await _points(session, account, kinds=(DAY, "fill"))
        base = await net_deposits(session, account.id)
        return EquityHistory(
            timeframe="1d",
            base_value=base,
            timestamp=[point.ts for point in points],
            kind=["day" if point.kind == DAY else "fill" for point in points],
            equity=[point.equity for point in points],
            cash=[point.cash for point in points],
            profit_loss=[point.equity - base for point in points],
        )


async def _points(
    session: AsyncSession, account: PaperAccount, *, kinds: tuple[str, ...]
) -> list[EquityPoint]:
    """Oldest first; at one time a fill point before the day point (the day's end)."""
    rows = await session.scalars(
        select(EquityPoint)
        .where(EquityPoint.account_id == account.id, EquityPoint.kind.in_(kinds))
        .order_by(EquityPoint.ts, EquityPoint.kind.desc())
    )
    return list(rows)


position_service = PositionService()
