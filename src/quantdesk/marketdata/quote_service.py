"""Quotes: the stored quote, or the quotes provider chain, through the quotes cache."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.db import Database
from quantdesk.errors import NotFound
from quantdesk.infra.cache import Cache, CacheCategory, CacheStatus, symbol_tag
from quantdesk.infra.events import EventBus, installed_event_bus
from quantdesk.kit.timeutil import to_epoch
from quantdesk.marketdata.freshness import wall_clock
from quantdesk.marketdata.live_events import publish_all, quote_event
from quantdesk.marketdata.providers.base import DataKind, QuoteQuery
from quantdesk.marketdata.providers.errors import (
    NoProviderAnswered,
    ProviderSubjectNotFound,
    UnknownProvider,
)
from quantdesk.marketdata.quote_sqlite import SqliteQuoteStatements, quote_row
from quantdesk.marketdata.quotes import (
    QuoteAnswer,
    QuoteDocument,
    ServedQuote,
    failure_trace,
    freshness_of,
    provider_quote_values,
    quote_document,
    served,
    stored_answer,
)
from quantdesk.marketdata.repository import (
    InstrumentRef,
    QuoteRepository,
    instrument_and_quote,
    upsert_quote,
)
from quantdesk.marketdata.service import InstrumentNotFound, instrument_service
from quantdesk.models import Instrument, Quote

if TYPE_CHECKING:
    from quantdesk.marketdata.providers.registry import ProviderRuntime


class QuoteNotFound(NotFound):
    code = "quote-not-found"

    def __init__(self, symbol: str) -> None:
        super().__init__(f"no quote for {symbol!r} yet: it has no bars")


_SQLITE: WeakKeyDictionary[Dialect, SqliteQuoteStatements] = WeakKeyDictionary()


def _sqlite_statements(dialect: Dialect) -> SqliteQuoteStatements | None:
    """The one-call statements of a SQLite engine (`quote_sqlite`); None on other databases."""
    if dialect.name != "sqlite" or dialect.driver != "aiosqlite":
        return None
    statements = _SQLITE.get(dialect)
    if statements is None:
        statements = _SQLITE[dialect] = SqliteQuoteStatements(dialect)
    return statements


async def _upsert(database: Database, values: dict[str, Any]) -> None:
    """The quote upsert in its own unit of work."""
    statements = _sqlite_statements(database.engine.dialect)
    if statements is not None:
        await statements.upsert_quote(database.engine, values)
        return
    async with database.engine.begin() as connection:
        await upsert_quote(connection, values)


class QuoteService:
    async def get(self, session: AsyncSession, symbol: str) -> tuple[Instrument, Quote]:
        instrument = await instrument_service.get(session, symbol)
        quote = await QuoteRepository(session).get(instrument.id)
        if quote is None:
            raise QuoteNotFound(instrument.symbol)
        return instrument, quote

    async def _lookup(self, database: Database, symbol: str) -> tuple[InstrumentRef, Quote | None]:
        """The instrument and its stored quote in one query on a bare connection (the hot
        path of a quote miss: no ORM session; on SQLite one call to the driver)."""
        statements = _sqlite_statements(database.engine.dialect)
        if statements is not None:
            found = await statements.instrument_and_quote(database.engine, symbol.upper())
        else:
            async with database.engine.connect() as connection:
                found = await instrument_and_quote(connection, symbol.upper())
        if found is None:
            raise InstrumentNotFound(symbol)
        return found

    async def latest(
        self, database: Database, cache: Cache, symbol: str
    ) -> tuple[QuoteDocument, CacheStatus]:
        """The stored quote as a JSON-ready `QuoteRead` document, through the quotes cache
        (no provider chain: callers that only want the document)."""
        answer, status = await self.answer(database, cache, symbol)
        return answer["data"], status

    async def answer(
        self,
        database: Database,
        cache: Cache,
        symbol: str,
        *,
        providers: ProviderRuntime | None = None,
        provider: str | None = None,
    ) -> tuple[ServedQuote, CacheStatus]:
        """`{"data": QuoteRead document, "meta": {provider, fallback_trace, as_of, stale,
        age_seconds}}` through the quotes cache, and whether it was a hit. `stale` and
        `age_seconds` are worked out against the wall clock at every call
        (`marketdata.freshness`), so a cached quote ages.

        Without a quotes chain (`providers` None or its chain empty) a miss reads the stored
        quote (derived from bars). With one, a miss asks the chain and stores the quote it
        answers (`refresh`); when every provider fails, the stored quote answers with their
        `fallback_trace`. `provider` names one provider of the chain: no fallback at all.

        A miss runs in its own units of work (the compute may outlive the request that
        started it: every concurrent caller of a cold key waits on that one computation).
        New bars for the symbol invalidate every entry of it (`new_bars_tags`).
        """
        # The hit path is a dict lookup: nothing here may await before the cache does.
        symbol = symbol.upper()
        chain = providers.chains.get(DataKind.QUOTES) if providers is not None else None
        names = chain.names if chain is not None else ()
        key = symbol
        if provider is not None:
            provider = provider.strip().lower()
            if provider not in names:
                raise UnknownProvider(provider, DataKind.QUOTES.value, names)
            key = f"{symbol}@{provider}"

        async def stored() -> QuoteAnswer:
            # Reads only: the read replica when one is set (a chain's refresh, which stores
            # what it fetched, reads and writes the primary).
            instrument, quote = await self._lookup(database.replica, symbol)
            if quote is None:
                raise QuoteNotFound(instrument.symbol)
            return stored_answer(instrument, quote, [])

        async def fetched() -> QuoteAnswer:
            assert providers is not None
            return await self.refresh(
                database,
                providers,
                symbol,
                provider=provider,
                fall_back=provider is None,
                events=installed_event_bus(),
            )

        answer, status = await cache.get_or_compute(
            CacheCategory.QUOTES,
            key,
            fetched if names else stored,
            tags=[symbol_tag(CacheCategory.QUOTES, symbol)],
        )
        return served(answer, wall_clock()), status

    async def refresh(
        self,
        database: Database,
        providers: ProviderRuntime,
        symbol: str,
        *,
        provider: str | None = None,
        fall_back: bool = False,
        events: EventBus | None = None,
    ) -> QuoteAnswer:
        """Fetch the quote of a known instrument through the quotes chain and store it
        (source = the provider that answered); the answer as the quotes cache holds it
        (`quotes` module docstring).

        The provider is called with no session open: a slow provider holds no connection,
        and with SQLite the fetch record's own transaction never waits for ours. When the
        chain fails and `fall_back` is set, the stored quote answers with the chain's trace
        (there is none to fall back on: the chain's error).

        With `events`, a new quote (another time or price than the stored one) is published
        as a live market event once stored (`live_events`)."""
        instrument, previous = await self._lookup(database, symbol)
        try:
            answer = await providers.fetch(QuoteQuery(instrument.symbol), provider=provider)
        except (NoProviderAnswered, ProviderSubjectNotFound) as error:
            if not fall_back or previous is None:
                raise
            return stored_answer(instrument, previous, failure_trace(error))
        values = provider_quote_values(instrument.id, previous, answer.value, answer.provider)
        await _upsert(database, values)  # its own unit of work: committed on return
        quote = answer.value
        if events is not None and (
            previous is None
            or to_epoch(previous.as_of) != quote.ts
            or previous.price != quote.price
        ):
            await publish_all(events, [quote_event(instrument.symbol, quote.ts, quote.price)])
        meta = answer.meta()
        row = quote_row(values)
        return {
            "data": quote_document(instrument, row),
            "meta": {
                "provider": meta["provider"],
                "fallback_trace": meta["fallback_trace"],
                "as_of": meta["as_of"],
            },
            "freshness": freshness_of(instrument, row),
        }


quote_service = QuoteService()
