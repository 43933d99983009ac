"""SQL for watchlists and price alerts: owned lookups (someone else's row is simply not
found), cursor pages, the symbol's active alerts in one query, and the trigger insert that
tolerates a re-delivered event (ON CONFLICT DO NOTHING on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from quantdesk.kit.repository import Repository
from quantdesk.models.watch import (
    AlertFrequency,
    PriceAlert,
    PriceAlertStatus,
    PriceAlertTrigger,
    Watchlist,
    WatchlistItem,
)

# Rows and ids per statement in the evaluation path: far below the 32,767 query arguments
# asyncpg allows per statement (8 per trigger row), so a symbol with thousands of alerts
# still evaluates on PostgreSQL.
CHUNK = 1_000


def _chunks(items: Sequence[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


class WatchlistRepository(Repository[Watchlist]):
    model = Watchlist

    async def owned(self, user_id: int, watchlist_id: str) -> Watchlist | None:
        found = await self.session.execute(
            select(Watchlist).where(Watchlist.id == watchlist_id, Watchlist.user_id == user_id)
        )
        return found.scalar_one_or_none()

    async def count_owned(self, user_id: int) -> int:
        found = await self.session.execute(
            select(func.count()).select_from(Watchlist).where(Watchlist.user_id == user_id)
        )
        return int(found.scalar_one())

    async def name_taken(self, user_id: int, name: str, *, other_than: str | None = None) -> bool:
        statement = select(Watchlist.id).where(Watchlist.user_id == user_id, Watchlist.name == name)
        if other_than is not None:
            statement = statement.where(Watchlist.id != other_than)
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def page(self, user_id: int, *, after_name: str | None, limit: int) -> list[Watchlist]:
        """By name (unique per user); `after_name` continues after the previous page."""
        statement = select(Watchlist).where(Watchlist.user_id == user_id)
        if after_name is not None:
            statement = statement.where(Watchlist.name > after_name)
        found = await self.session.execute(statement.order_by(Watchlist.name).limit(limit))
        return list(found.scalars())

    async def items(self, watchlist_ids: Sequence[str]) -> list[WatchlistItem]:
        """The items of these lists, each list's in the order they were added."""
        if not watchlist_ids:
            return []
        found = await self.session.execute(
            select(WatchlistItem)
            .where(WatchlistItem.watchlist_id.in_(list(watchlist_ids)))
            .order_by(WatchlistItem.added_at, WatchlistItem.symbol)
        )
        return list(found.scalars())

    async def item(self, watchlist_id: str, symbol: str) -> WatchlistItem | None:
        return await self.session.get(WatchlistItem, (watchlist_id, symbol))

    async def count_items(self, watchlist_id: str) -> int:
        found = await self.session.execute(
            select(func.count())
            .select_from(WatchlistItem)
            .where(WatchlistItem.watchlist_id == watchlist_id)
        )
        return int(found.scalar_one())

    async def clear_items(self, watchlist_id: str) -> None:
        await self.session.execute(
            delete(WatchlistItem).where(WatchlistItem.watchlist_id == watchlist_id)
        )


class PriceAlertRepository(Repository[PriceAlert]):
    model = PriceAlert

    async def owned(self, user_id: int, alert_id: str) -> PriceAlert | None:
        found = await self.session.execute(
            select(PriceAlert).where(PriceAlert.id == alert_id, PriceAlert.user_id == user_id)
        )
        return found.scalar_one_or_none()

    async def count_active(self, user_id: int) -> int:
        found = await self.session.execute(
            select(func.count())
            .select_from(PriceAlert)
            .where(PriceAlert.user_id == user_id, PriceAlert.status == PriceAlertStatus.ACTIVE)
        )
        return int(found.scalar_one())

    async def page(
        self,
        user_id: int,
        *,
        status: PriceAlertStatus | None,
        symbol: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[PriceAlert]:
        """Newest first by (created_at, id)."""
        statement = select(PriceAlert).where(PriceAlert.user_id == user_id)
        if status is not None:
            statement = statement.where(PriceAlert.status == status)
        if symbol is not None:
            statement = statement.where(PriceAlert.symbol == symbol)
        if after is not None:
            created, alert_id = after
            statement = statement.where(
                (PriceAlert.created_at < created)
                | ((PriceAlert.created_at == created) & (PriceAlert.id < alert_id))
            )
        statement = statement.order_by(PriceAlert.created_at.desc(), PriceAlert.id.desc())
        return list((await self.session.execute(statement.limit(limit))).scalars())

    async def triggers(
        self, user_id: int, *, alert_id: str | None, before_id: int | None, limit: int
    ) -> list[PriceAlertTrigger]:
        """The user's firings (of one alert, or all), newest first by id."""
        statement = select(PriceAlertTrigger).where(PriceAlertTrigger.user_id == user_id)
        if alert_id is not None:
            statement = statement.where(PriceAlertTrigger.alert_id == alert_id)
        if before_id is not None:
            statement = statement.where(PriceAlertTrigger.id < before_id)
        statement = statement.order_by(PriceAlertTrigger.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())

    # ---------------------------------------------------------------- evaluation
    async def active_for_symbol(self, symbol: str) -> list[PriceAlert]:
        """One query on (symbol, status): every active alert of the symbol."""
        found = await self.session.execute(
            select(PriceAlert)
            .where(PriceAlert.symbol == symbol, PriceAlert.status == PriceAlertStatus.ACTIVE)
            .order_by(PriceAlert.created_at, PriceAlert.id)
        )
        return list(found.scalars())

    async def set_status(self, ids: Sequence[str], status: PriceAlertStatus) -> None:
        for chunk in _chunks(ids):
            await self.session.execute(
                update(PriceAlert).where(PriceAlert.id.in_(chunk)).values(status=status)
            )

    async def set_last_price(self, ids: Sequence[str], price: Decimal) -> None:
        for chunk in _chunks(ids):
            await self.session.execute(
                update(PriceAlert).where(PriceAlert.id.in_(chunk)).values(last_price=price)
            )

    async def insert_triggers(self, rows: Sequence[dict[str, Any]]) -> set[str]:
        """Insert firings whose (alert_id, bar_ts) is not recorded yet; the alert ids of
        those inserted (a re-delivered event inserts nothing)."""
        insert = pg_insert if self.dialect == "postgresql" else sqlite_insert
        table = PriceAlertTrigger.__table__
        assert isinstance(table, Table)
        inserted: set[str] = set()
        for chunk in _chunks(rows):
            statement = (
                insert(table)
                .values(chunk)
                .on_conflict_do_nothing(index_elements=["alert_id", "bar_ts"])
                .returning(table.c.alert_id)
            )
            inserted.update((await self.session.execute(statement)).scalars())
        return inserted

    async def record_firings(self, fired: Sequence[PriceAlert], market_time: datetime) -> None:
        """trigger_count + 1 and last_triggered_at on each fired alert; `once` ones end
        `triggered`."""
        for chunk in _chunks([alert.id for alert in fired]):
            await self.session.execute(
                update(PriceAlert)
                .where(PriceAlert.id.in_(chunk))
                .values(trigger_count=PriceAlert.trigger_count + 1, last_triggered_at=market_time)
            )
        once = [alert.id for alert in fired if alert.frequency is AlertFrequency.ONCE]
        await self.set_status(once, PriceAlertStatus.TRIGGERED)
