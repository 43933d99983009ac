"""Watchlists: named lists of symbols with notes, owner only (someone else's list is simply not
found). Each item is answered with its symbol's latest stored quote price (through the quote
service and its cache), null when none is stored.

Limits: `MAX_WATCHLISTS_PER_USER` lists per user (409 beyond), `MAX_SYMBOLS_PER_WATCHLIST`
symbols per list (a longer body is a 422; adding to a full list is a 409). Names are unique
per user (409). Items keep the order they were given in (then added in).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import Database
from quantdesk.errors import Conflict, NotFound, Unprocessable, field_error
from quantdesk.infra.cache import Cache
from quantdesk.kit.pagination import decode_cursor, encode_cursor
from quantdesk.marketdata.quote_service import quote_service
from quantdesk.marketdata.service import InstrumentNotFound, instrument_service
from quantdesk.models import utcnow
from quantdesk.models.watch import Watchlist, WatchlistItem
from quantdesk.portfolio.watch_repository import WatchlistRepository
from quantdesk.portfolio.watch_schemas import (
    MAX_SYMBOLS_PER_WATCHLIST,
    MAX_WATCHLISTS_PER_USER,
    WatchlistCreate,
    WatchlistItemRead,
    WatchlistRead,
    WatchlistSummary,
    WatchlistSymbolIn,
    WatchlistUpdate,
)

_TICK = timedelta(microseconds=1)


class WatchlistNotFound(NotFound):
    code = "watchlist-not-found"

    def __init__(self, watchlist_id: str) -> None:
        super().__init__(f"no watchlist {watchlist_id!r}")


class WatchlistSymbolNotFound(NotFound):
    code = "watchlist-symbol-not-found"

    def __init__(self, symbol: str) -> None:
        super().__init__(f"{symbol} is not on this watchlist")


class WatchlistLimitReached(Conflict):
    code = "watchlist-limit-reached"


class WatchlistNameTaken(Conflict):
    code = "watchlist-name-taken"

    def __init__(self, name: str) -> None:
        super().__init__(f"you already have a watchlist named {name!r}")


@dataclass(frozen=True, slots=True)
class QuoteReader:
    """The latest stored quote of a symbol through the quotes cache (no provider call)."""

    database: Database
    cache: Cache

    async def latest(self, symbol: str) -> tuple[Decimal, datetime] | None:
        """(price, as_of), the float price exact as displayed (`Decimal(repr(x))`)."""
        try:
            document, _ = await quote_service.latest(self.database, self.cache, symbol)
        except NotFound:
            return None
        price = Decimal(repr(float(document["price"])))
        return price, datetime.fromisoformat(document["as_of"])


@dataclass(frozen=True, slots=True)
class WatchlistPage:
    watchlists: list[WatchlistSummary]
    next_cursor: str | None


async def _check_symbols(
    session: AsyncSession, symbols: Sequence[str], loc: Sequence[Sequence[str]]
) -> None:
    """A 422 naming each symbol (by its place in the body) that is not a known instrument."""
    errors = []
    for symbol, where in zip(symbols, loc, strict=True):
        try:
            await instrument_service.get(session, symbol)
        except InstrumentNotFound:
            errors.append(field_error(list(where), f"unknown symbol {symbol!r}"))
    if errors:
        raise Unprocessable("unknown symbols: add the instruments first", errors=errors)


def _entries_loc(entries: Sequence[WatchlistSymbolIn]) -> list[list[str]]:
    # `loc` parts are strings, as in every problem's errors[] (the OpenAPI ProblemError).
    return [["body", "symbols", str(index), "symbol"] for index in range(len(entries))]


class WatchlistService:
    async def create(
        self, session: AsyncSession, quotes: QuoteReader, *, user_id: int, body: WatchlistCreate
    ) -> WatchlistRead:
        repository = WatchlistRepository(session)
        await _check_symbols(session, [e.symbol for e in body.symbols], _entries_loc(body.symbols))
        if await repository.count_owned(user_id) >= MAX_WATCHLISTS_PER_USER:
            raise WatchlistLimitReached(
                f"at most {MAX_WATCHLISTS_PER_USER} watchlists per user: delete one first"
            )
        if await repository.name_taken(user_id, body.name):
            raise WatchlistNameTaken(body.name)
        now = utcnow()
        watchlist = Watchlist(
            id=secrets.token_hex(16),
            user_id=user_id,
            name=body.name,
            created_at=now,
            updated_at=now,
        )
        session.add(watchlist)
        for index, entry in enumerate(body.symbols):
            session.add(
                WatchlistItem(
                    watchlist_id=watchlist.id,
                    symbol=entry.symbol,
                    note=entry.note,
                    added_at=now + index * _TICK,
                )
            )
        await self._flush(session, body.name)
        return await self._read(session, quotes, watchlist)

    async def get(
        self, session: AsyncSession, quotes: QuoteReader, *, user_id: int, watchlist_id: str
    ) -> WatchlistRead:
        return await self._read(session, quotes, await self._owned(session, user_id, watchlist_id))

    async def search(
        self, session: AsyncSession, *, user_id: int, cursor: str | None, limit: int
    ) -> WatchlistPage:
        """The user's lists by name; each with its symbols (no notes, no prices)."""
        after = str(decode_cursor(cursor)) if cursor is not None else None
        repository = WatchlistRepository(session)
        rows = await repository.page(user_id, after_name=after, limit=limit + 1)
        page = rows[:limit]
        items = await repository.items([w.id for w in page])
        symbols: dict[str, list[str]] = {w.id: [] for w in page}
        for item in items:
            symbols[item.watchlist_id].append(item.symbol)
        summaries = [
            WatchlistSummary(
                id=w.id,
                name=w.name,
                symbols=symbols[w.id],
                created_at=w.created_at,
                updated_at=w.updated_at,
            )
            for w in page
        ]
        next_cursor = encode_cursor(page[-1].name) if len(rows) > limit else None
        return WatchlistPage(summaries, next_cursor)

    async def update(
        self,
        session: AsyncSession,
        quotes: QuoteReader,
        *,
        user_id: int,
        watchlist_id: str,
        body: WatchlistUpdate,
    ) -> WatchlistRead:
        """Rename and/or replace the symbols (a symbol kept keeps its `added_at`)."""
        watchlist = await self._owned(session, user_id, watchlist_id)
        repository = WatchlistRepository(session)
        if body.symbols is not None:
            entries = body.symbols
            await _check_symbols(session, [e.symbol for e in entries], _entries_loc(entries))
        if body.name is not None and body.name != watchlist.name:
            if await repository.name_taken(user_id, body.name, other_than=watchlist.id):
                raise WatchlistNameTaken(body.name)
            watchlist.name = body.name
        now = utcnow()
        if body.symbols is not None:
            kept = {item.symbol: item for item in await repository.items([watchlist.id])}
            wanted = {entry.symbol for entry in body.symbols}
            for symbol, item in kept.items():
                if symbol not in wanted:
                    await session.delete(item)
            for index, entry in enumerate(body.symbols):
                existing = kept.get(entry.symbol)
                if existing is not None:
                    existing.note = entry.note
                else:
                    session.add(
                        WatchlistItem(
                            watchlist_id=watchlist.id,
                            symbol=entry.symbol,
                            note=entry.note,
                            added_at=now + index * _TICK,
                        )
                    )
        watchlist.updated_at = now
        await self._flush(session, watchlist.name)
        return await self._read(session, quotes, watchlist)

    async def delete(self, session: AsyncSession, *, user_id: int, watchlist_id: str) -> None:
        watchlist = await self._owned(session, user_id, watchlist_id)
        await WatchlistRepository(session).clear_items(watchlist.id)
        await session.delete(watchlist)
        await session.flush()

    async def add_symbol(
        self,
        session: AsyncSession,
        quotes: QuoteReader,
        *,
        user_id: int,
        watchlist_id: str,
        body: WatchlistSymbolIn,
    ) -> tuple[WatchlistRead, bool]:
        """Add a symbol (or set the note of one already listed): (the list, added)."""
        watchlist = await self._owned(session, user_id, watchlist_id)
        await _check_symbols(session, [body.symbol], [["body", "symbol"]])
        repository = WatchlistRepository(session)
        existing = await repository.item(watchlist.id, body.symbol)
        if existing is not None:
            existing.note = body.note
        else:
            if await repository.count_items(watchlist.id) >= MAX_SYMBOLS_PER_WATCHLIST:
                raise WatchlistLimitReached(
                    f"at most {MAX_SYMBOLS_PER_WATCHLIST} symbols per watchlist: remove one first"
                )
            session.add(
                WatchlistItem(
                    watchlist_id=watchlist.id, symbol=body.symbol, note=body.note, added_at=utcnow()
                )
            )
        watchlist.updated_at = utcnow()
        await self._flush(session, watchlist.name)
        return await self._read(session, quotes, watchlist), existing is None

    async def remove_symbol(
        self, session: AsyncSession, *, user_id: int, watchlist_id: str, symbol: str
    ) -> None:
        watchlist = await self._owned(session, user_id, watchlist_id)
        item = await WatchlistRepository(session).item(watchlist.id, symbol)
        if item is None:
            raise WatchlistSymbolNotFound(symbol)
        await session.delete(item)
        watchlist.updated_at = utcnow()
        await session.flush()

    # ------------------------------------------------------------------ helpers
    async def _owned(self, session: AsyncSession, user_id: int, watchlist_id: str) -> Watchlist:
        watchlist = await WatchlistRepository(session).owned(user_id, watchlist_id)
        if watchlist is None:
            raise WatchlistNotFound(watchlist_id)
        return watchlist

    async def _flush(self, session: AsyncSession, name: str) -> None:
        try:
            await session.flush()
        except IntegrityError as exc:  # a concurrent request took the name first
            raise WatchlistNameTaken(name) from exc

    async def _read(
        self, session: AsyncSession, quotes: QuoteReader, watchlist: Watchlist
    ) -> WatchlistRead:
        items = []
        for item in await WatchlistRepository(session).items([watchlist.id]):
            quote = await quotes.latest(item.symbol)
            items.append(
                WatchlistItemRead(
                    symbol=item.symbol,
                    note=item.note,
                    added_at=item.added_at,
                    price=quote[0] if quote else None,
                    price_as_of=quote[1] if quote else None,
                )
            )
        return WatchlistRead(
            id=watchlist.id,
            name=watchlist.name,
            items=items,
            created_at=watchlist.created_at,
            updated_at=watchlist.updated_at,
        )


watchlist_service = WatchlistService()
