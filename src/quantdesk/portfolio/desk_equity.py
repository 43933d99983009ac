"""An account's equity and its equity history points (docs/paper-trading.md, "Positions and
P&L").

Equity = cash + held + Σ qty x last price over the account's open positions, the last price
being the symbol's market clock (`market_clock.last_price`, the close of the latest market
event the desk processed); a position whose symbol has no price yet counts at its cost basis.

History (`equity_points`): the desk writes a `fill` point keyed by the event's market time for
every account that filled on a market event (one point per account per event: two fills of one
account on the same bar share it), and a `day` point keyed by the start of the event's UTC day
for every account holding the symbol or filling on it, overwritten by every later event of that
day: it ends as the equity after the day's last event.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.models.portfolio import (
    EquityPoint,
    Fixed8,
    LedgerLeg,
    PaperAccount,
    PaperPosition,
)
from quantdesk.portfolio import ledger
from quantdesk.portfolio.accounts import position_values

SECONDS_PER_DAY = 86_400
DAY = "day"
FILL = "fill"


def day_start(ts: int) -> int:
    """The Unix time of 00:00 UTC of `ts`'s day."""
    return ts - ts % SECONDS_PER_DAY


async def market_value(session: AsyncSession, account_id: str) -> Decimal:
    """Σ qty x last price of the account's open positions (cost basis without a price), as the
    account API values them (`accounts.position_values`)."""
    return (await position_values(session, [account_id]))[account_id]


async def account_equity(session: AsyncSession, account: PaperAccount) -> Decimal:
    return account.cash + account.held + await market_value(session, account.id)


async def record_point(session: AsyncSession, account: PaperAccount, ts: int, kind: str) -> None:
    """Upsert the account's `kind` point at `ts` with its equity and cash now."""
    equity = await account_equity(session, account)
    cash = account.cash + account.held
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(EquityPoint).values(
        account_id=account.id, ts=ts, kind=kind, equity=equity, cash=cash
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[EquityPoint.account_id, EquityPoint.ts, EquityPoint.kind],
            set_={"equity": statement.excluded.equity, "cash": statement.excluded.cash},
        )
    )


async def holders(session: AsyncSession, symbol: str) -> list[str]:
    """Accounts with an open position in `symbol`."""
    rows = await session.scalars(
        select(PaperPosition.account_id).where(
            PaperPosition.symbol == symbol, PaperPosition.qty != Decimal(0)
        )
    )
    return list(rows)


async def record_day_points(
    session: AsyncSession, symbol: str, ts: int, also: Iterable[str]
) -> None:
    """The `day` point at `ts`'s day for every holder of `symbol` and every account in
    `also` (those that filled on this event)."""
    ids = sorted(set(await holders(session, symbol)) | set(also))
    if not ids:
        return
    accounts = await session.scalars(select(PaperAccount).where(PaperAccount.id.in_(ids)))
    for account in accounts:
        await record_point(session, account, day_start(ts), DAY)


async def net_deposits(session: AsyncSession, account_id: str) -> Decimal:
    """Deposits minus withdrawals: minus the sum of the account's `external` book."""
    total = await session.scalar(
        select(type_coerce(func.coalesce(func.sum(LedgerLeg.amount), 0), Fixed8())).where(
            LedgerLeg.account_id == account_id, LedgerLeg.book == ledger.EXTERNAL
        )
    )
    return -(total or Decimal(0))
