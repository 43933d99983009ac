"""One interface per data kind, the typed queries that ask for it and the typed results.

A provider implements the protocol of every kind it serves (`CcxtProvider` is both a
`BarsProvider` and a `QuotesProvider`). A query knows its kind and which protocol method
answers it, so the chain stays generic while callers get typed results:
`answer: ProviderAnswer[BarFrame] = await runtime.fetch(BarsQuery("BTCUSD", Timeframe.H1))`.

Times are epoch seconds, UTC, throughout.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.frames import BarFrame

T = TypeVar("T")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class DataKind(StrEnum):
    BARS = "bars"
    QUOTES = "quotes"
    FX_RATES = "fx_rates"
    FUNDAMENTALS = "fundamentals"
    FUND_NAVS = "fund_navs"
    ECONOMIC_SERIES = "economic_series"
    NEWS = "news"


class Calendar(StrEnum):
    """When bars are expected, for gap detection."""

    ALWAYS = "always"  # crypto: every bar, every day
    WEEKDAYS = "weekdays"  # FX and daily equities: Monday to Friday (UTC days)
    SESSIONS = "sessions"  # intraday equities: holes inside each traded day only


# --- Results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    symbol: str
    price: float
    ts: int
    bid: float | None = None
    ask: float | None = None
    volume: float | None = None


@dataclass(frozen=True)
class FxRates:
    """1 `base` = `rates[c]` units of currency c, as published on `as_of`."""

    base: str
    as_of: int
    rates: dict[str, float]


@dataclass(frozen=True)
class Fundamentals:
    symbol: str
    as_of: int
    values: dict[str, float | str | None]


@dataclass(frozen=True)
class Series:
    """A dated numeric series (economic indicator, fund NAV); ts ascending after checks."""

    series_id: str
    ts: IntArray
    values: FloatArray
    units: str | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def select(self, rows: Any) -> Series:
        return Series(self.series_id, self.ts[rows], self.values[rows], self.units)


@dataclass(frozen=True)
class NewsItem:
    id: str
    title: str
    url: str | None
    published_at: int | None
    source: str
    summary: str | None = None
    symbols: tuple[str, ...] = ()  # what the provider tagged it with (upper-cased tickers)


# --- Queries --------------------------------------------------------------------------------


class Query(ABC, Generic[T]):
    """What to fetch; `run` calls the protocol method of its kind on one provider."""

    kind: ClassVar[DataKind]

    @property
    @abstractmethod
    def subject(self) -> str | None:
        """What the fetch is about (symbol, pair, series id), recorded with it."""

    @abstractmethod
    async def run(self, provider: object) -> T: ...


@dataclass(frozen=True)
class BarsQuery(Query[BarFrame]):
    kind: ClassVar[DataKind] = DataKind.BARS
    symbol: str
    timeframe: Timeframe = Timeframe.D1
    start: int | None = None  # inclusive
    end: int | None = None  # inclusive
    limit: int | None = None  # the latest `limit` bars up to `end`
    calendar: Calendar = Calendar.ALWAYS

    @property
    def subject(self) -> str:
        return self.symbol

    async def run(self, provider: object) -> BarFrame:
        assert isinstance(provider, BarsProvider)
        return await provider.fetch_bars(self)


@dataclass(frozen=True)
class QuoteQuery(Query[Quote]):
    kind: ClassVar[DataKind] = DataKind.QUOTES
    symbol: str

    @property
    def subject(self) -> str:
        return self.symbol

    async def run(self, provider: object) -> Quote:
        assert isinstance(provider, QuotesProvider)
        return await provider.fetch_quote(self)


@dataclass(frozen=True)
class FxRatesQuery(Query[FxRates]):
    kind: ClassVar[DataKind] = DataKind.FX_RATES
    base: str = "EUR"
    symbols: tuple[str, ...] = ()  # empty: every currency the provider publishes

    @property
    def subject(self) -> str:
        return self.base + ("/" + ",".join(self.symbols) if self.symbols else "")

    async def run(self, provider: object) -> FxRates:
        assert isinstance(provider, FxRatesProvider)
        return await provider.fetch_fx_rates(self)


@dataclass(frozen=True)
class FundamentalsQuery(Query[Fundamentals]):
    kind: ClassVar[DataKind] = DataKind.FUNDAMENTALS
    symbol: str

    @property
    def subject(self) -> str:
        return self.symbol

    async def run(self, provider: object) -> Fundamentals:
        assert isinstance(provider, FundamentalsProvider)
        return await provider.fetch_fundamentals(self)


@dataclass(frozen=True)
class SeriesQuery(Query[Series]):
    """An economic series (FRED id such as `CPIAUCSL`)."""

    kind: ClassVar[DataKind] = DataKind.ECONOMIC_SERIES
    series_id: str
    start: int | None = None
    end: int | None = None

    @property
    def subject(self) -> str:
        return self.series_id

    async def run(self, provider: object) -> Series:
        assert isinstance(provider, EconomicSeriesProvider)
        return await provider.fetch_series(self)


@dataclass(frozen=True)
class FundNavQuery(Query[Series]):
    kind: ClassVar[DataKind] = DataKind.FUND_NAVS
    fund: str
    start: int | None = None
    end: int | None = None

    @property
    def subject(self) -> str:
        return self.fund

    async def run(self, provider: object) -> Series:
        assert isinstance(provider, FundNavsProvider)
        return await provider.fetch_fund_navs(self)


@dataclass(frozen=True)
class NewsQuery(Query[list[NewsItem]]):
    kind: ClassVar[DataKind] = DataKind.NEWS
    symbol: str | None = None  # keep items that mention it (title or summary)
    feed: str | None = None  # one configured feed by name; None: all of them
    limit: int = 50
    keywords: tuple[str, ...] = field(default=())

    @property
    def subject(self) -> str | None:
        return self.symbol or self.feed

    async def run(self, provider: object) -> list[NewsItem]:
        assert isinstance(provider, NewsProvider)
        return await provider.fetch_news(self)


# --- Provider protocols ---------------------------------------------------------------------


@runtime_checkable
class Provider(Protocol):
    """What every provider has: a unique name (the chain entry, e.g. `ccxt:binance`)."""

    name: str
    kinds: frozenset[DataKind]

    async def aclose(self) -> None: ...


@runtime_checkable
class BarsProvider(Provider, Protocol):
    async def fetch_bars(self, query: BarsQuery) -> BarFrame: ...


@runtime_checkable
class QuotesProvider(Provider, Protocol):
    async def fetch_quote(self, query: QuoteQuery) -> Quote: ...


@runtime_checkable
class FxRatesProvider(Provider, Protocol):
    async def fetch_fx_rates(self, query: FxRatesQuery) -> FxRates: ...


@runtime_checkable
class FundamentalsProvider(Provider, Protocol):
    async def fetch_fundamentals(self, query: FundamentalsQuery) -> Fundamentals: ...


@runtime_checkable
class EconomicSeriesProvider(Provider, Protocol):
    async def fetch_series(self, query: SeriesQuery) -> Series: ...


@runtime_checkable
class FundNavsProvider(Provider, Protocol):
    async def fetch_fund_navs(self, query: FundNavQuery) -> Series: ...


@runtime_checkable
class NewsProvider(Provider, Protocol):
    async def fetch_news(self, query: NewsQuery) -> list[NewsItem]: ...


def empty_bars() -> BarFrame:
    return BarFrame.from_columns(([], [], [], [], [], []))
