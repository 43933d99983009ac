"""Quote documents and the merge of a provider's quote with the stored one (pure, no I/O).

A quote answer is what the quotes cache holds:

    {"data": QuoteRead document, "meta": {"provider", "fallback_trace", "as_of"},
     "freshness": {"as_of": Unix seconds, "interval": seconds, "weekends": bool}}

GET /quotes/{symbol} serves it with `meta.stale` and `meta.age_seconds` worked out from
`freshness` against the wall clock at each response (`served`), and `meta.cache`.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict, cast

from quantdesk.errors import AppError
from quantdesk.kit.timeutil import from_epoch, to_epoch
from quantdesk.marketdata import freshness
from quantdesk.marketdata.providers.base import Quote as ProviderQuote
from quantdesk.marketdata.providers.errors import NoProviderAnswered
from quantdesk.marketdata.schemas import QuoteRead
from quantdesk.models import AssetClass, Quote, utcnow

SOURCE_MAX_LENGTH = 32  # quotes.source
# A stored price at most this many UTC days before the provider's quote is taken as its previous
# close (a weekend plus a holiday); an older one says nothing about the last session.
PREVIOUS_CLOSE_MAX_DAYS = 4


class QuoteDocument(TypedDict):
    """`QuoteRead` as JSON (times as ISO-8601 strings)."""

    symbol: str
    price: float
    previous_close: float | None
    change: float | None
    change_pct: float | None
    day_open: float | None
    day_high: float | None
    day_low: float | None
    volume: float | None
    currency: str
    as_of: str
    source: str


class QuoteMeta(TypedDict):
    provider: str
    fallback_trace: list[dict[str, Any]]  # {provider, status, error} per failed step
    as_of: str


class Freshness(TypedDict):
    as_of: int  # Unix seconds of the price
    interval: int  # seconds between expected updates (marketdata.freshness)
    weekends: bool  # whether the market trades at weekends


class QuoteAnswer(TypedDict):
    """What the quotes cache holds for a symbol."""

    data: QuoteDocument
    meta: QuoteMeta
    freshness: Freshness


class ServedQuoteMeta(QuoteMeta):
    stale: bool
    age_seconds: int


class ServedQuote(TypedDict):
    """A quote answer as served at one moment: `meta` aged against the wall clock."""

    data: QuoteDocument
    meta: ServedQuoteMeta


class QuotedInstrument(Protocol):
    """An instrument row or `repository.InstrumentRef`."""

    @property
    def symbol(self) -> str: ...

    @property
    def currency(self) -> str: ...

    @property
    def asset_class(self) -> AssetClass: ...


def quote_document(instrument: QuotedInstrument, quote: Quote) -> QuoteDocument:
    document = QuoteRead(
        symbol=instrument.symbol,
        currency=instrument.currency,
        price=quote.price,
        previous_close=quote.previous_close,
        change=quote.change,
        change_pct=quote.change_pct,
        day_open=quote.day_open,
        day_high=quote.day_high,
        day_low=quote.day_low,
        volume=quote.volume,
        as_of=quote.as_of,
        source=quote.source,
    ).model_dump(mode="json")
    return cast(QuoteDocument, document)


def stored_answer(
    instrument: QuotedInstrument, quote: Quote, trace: list[dict[str, Any]]
) -> QuoteAnswer:
    """The stored quote as an answer: its source answered, after the providers in `trace`."""
    document = quote_document(instrument, quote)
    return {
        "data": document,
        "meta": {
            "provider": document["source"],
            "fallback_trace": trace,
            "as_of": document["as_of"],
        },
        "freshness": freshness_of(instrument, quote),
    }


def freshness_of(instrument: QuotedInstrument, quote: Quote) -> Freshness:
    """What `served` needs to age the quote: its price time and the expected update rhythm."""
    return {
        "as_of": to_epoch(quote.as_of),
        "interval": freshness.quote_interval(instrument.asset_class),
        "weekends": freshness.trades_weekends(instrument.asset_class),
    }


def served(answer: QuoteAnswer, now: float) -> ServedQuote:
    """The answer as served at `now`: `meta` gains `stale` and `age_seconds`."""
    rhythm = answer["freshness"]
    found = freshness.freshness(
        rhythm["as_of"], interval=rhythm["interval"], weekends=rhythm["weekends"], now=now
    )
    meta: ServedQuoteMeta = {
        **answer["meta"],
        "stale": found.stale,
        "age_seconds": found.age_seconds,
    }
    return {"data": answer["data"], "meta": meta}


def failure_trace(error: AppError) -> list[dict[str, Any]]:
    """The chain's fallback trace out of its error ({provider, status, error} per step)."""
    if isinstance(error, NoProviderAnswered):
        return [dict(step) for step in error.trace]
    # ProviderSubjectNotFound: the steps, each tagged with a problem `type`.
    return [{k: v for k, v in step.items() if k != "type"} for step in error.errors or []]


def provider_quote_values(
    instrument_id: int, stored: Quote | None, quote: ProviderQuote, source: str
) -> dict[str, Any]:
    """The `quotes` row for a provider's quote, filling what providers do not give.

    Providers give a price, its time and maybe the day's volume; the day's open, range and
    the previous close come from the stored quote (derived from bars, or an earlier provider
    quote), judged by UTC calendar day like `refresh_quote_from_bars` (marketdata.service):

    * same day as the stored quote (or earlier): its previous close and day open are kept,
      its day high / low widened to include the new price, its volume kept unless the
      provider gives one;
    * a later day: the stored price becomes the previous close (unless it is more than
      `PREVIOUS_CLOSE_MAX_DAYS` old: then unknown); the day's open, high and low are unknown
      (None), volume is the provider's;
    * nothing stored: only what the provider gives.

    `change` and `change_pct` are always recomputed against the previous close, so they
    never describe another price than the one shown.
    """
    price = quote.price
    previous_close: float | None = None
    day_open = day_high = day_low = None
    volume = quote.volume
    if stored is not None:
        days_later = quote.ts // 86_400 - to_epoch(stored.as_of) // 86_400
        if days_later <= 0:
            previous_close = stored.previous_close
            day_open = stored.day_open
            day_high = max(stored.day_high, price) if stored.day_high is not None else None
            day_low = min(stored.day_low, price) if stored.day_low is not None else None
            volume = volume if volume is not None else stored.volume
        elif days_later <= PREVIOUS_CLOSE_MAX_DAYS:
            previous_close = stored.price
    change = price - previous_close if previous_close is not None else None
    return {
        "instrument_id": instrument_id,
        "price": price,
        "previous_close": previous_close,
        "change": change,
        "change_pct": change / previous_close * 100.0
        if change is not None and previous_close
        else None,
        "day_open": day_open,
        "day_high": day_high,
        "day_low": day_low,
        "volume": volume,
        "as_of": from_epoch(quote.ts),
        "source": source[:SOURCE_MAX_LENGTH],
        "updated_at": utcnow(),
    }
