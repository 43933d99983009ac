"""GET /fx/convert: an amount from one currency to another with stored mid rates.

The route is the first that exists of: the pair itself (published either way), then through
EUR, then through USD. Each leg is the newest stored mid rate on or before the asked date from
any source (the ECB first on a tie), so a leg may be older than the date (a weekend, a holiday)
and the answer says each leg's day. Amounts are Decimal; a rate is taken at the precision it
was published with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import NotFound
from quantdesk.marketdata.fx.compare import BAM_HINT
from quantdesk.marketdata.fx.repository import FxQuoteRepository

PIVOTS = ("EUR", "USD")
STALE_DAYS = 7
RESULT_PLACES = Decimal("0.000001")
RATE_PLACES = Decimal("0.0000000001")


class FxPathNotFound(NotFound):
    code = "fx-path-not-found"


@dataclass(frozen=True)
class ConversionLeg:
    base: str
    quote: str
    rate: Decimal  # 1 base = rate quote, as used (inverted when published the other way)
    published: Decimal  # the stored rate as published, `published_pair`
    published_pair: str
    inverted: bool
    day: date
    source: str
    provider: str


@dataclass(frozen=True)
class Conversion:
    source_currency: str
    target_currency: str
    amount: Decimal
    converted: Decimal
    rate: Decimal
    route: str  # "direct", "via EUR", "via USD" (or "identity")
    legs: list[ConversionLeg]
    notes: list[str] = field(default_factory=list)


def _decimal(rate: float) -> Decimal:
    return Decimal(repr(rate))


async def _leg(
    repository: FxQuoteRepository, base: str, quote: str, on: date | None
) -> ConversionLeg | None:
    """base/quote from the newest stored rate either way round (published way on a tie)."""
    direct = await repository.latest_quote(base, quote, on_or_before=on)
    inverse = await repository.latest_quote(quote, base, on_or_before=on)
    if direct is None and inverse is None:
        return None
    if direct is not None and (inverse is None or direct.day >= inverse.day):
        published, row, inverted = _decimal(direct.rate), direct, False
    else:
        assert inverse is not None
        published, row, inverted = _decimal(inverse.rate), inverse, True
    if published <= 0:
        return None
    with localcontext() as context:
        context.prec = 28
        rate = Decimal(1) / published if inverted else published
    return ConversionLeg(
        base=base,
        quote=quote,
        rate=rate,
        published=published,
        published_pair=f"{row.base}/{row.quote}",
        inverted=inverted,
        day=row.day,
        source=row.source,
        provider=row.provider,
    )


async def _route(
    repository: FxQuoteRepository, source: str, target: str, on: date | None
) -> tuple[str, list[ConversionLeg]] | None:
    direct = await _leg(repository, source, target, on)
    if direct is not None:
        return "direct", [direct]
    for pivot in PIVOTS:
        if pivot in (source, target):
            continue
        first = await _leg(repository, source, pivot, on)
        if first is None:
            continue
        second = await _leg(repository, pivot, target, on)
        if second is not None:
            return f"via {pivot}", [first, second]
    return None


async def convert(
    session: AsyncSession, source: str, target: str, amount: Decimal, *, on: date | None
) -> Conversion:
    source, target = source.upper(), target.upper()
    if source == target:
        return Conversion(source, target, amount, amount, Decimal(1), "identity", [])
    found = await _route(FxQuoteRepository(session), source, target, on)
    if found is None:
        when = f" on or before {on.isoformat()}" if on else ""
        hint = (
            f"; {BAM_HINT}"
            if "MAD" in (source, target)
            else "; load the ECB history (`quantdesk demo load`) or run the fx.fetch_rates job"
        )
        raise FxPathNotFound(
            f"no stored rates link {source} and {target}{when}, directly or through EUR or "
            f"USD{hint}"
        )
    route, legs = found
    with localcontext() as context:
        context.prec = 28
        rate = Decimal(1)
        for leg in legs:
            rate *= leg.rate
        converted = (amount * rate).quantize(RESULT_PLACES)
    notes = []
    if on is not None:
        for leg in legs:
            if (on - leg.day).days > STALE_DAYS:
                notes.append(
                    f"{leg.base}/{leg.quote} is from {leg.day.isoformat()}, "
                    f"{(on - leg.day).days} days before {on.isoformat()}"
                )
    return Conversion(
        source_currency=source,
        target_currency=target,
        amount=amount,
        converted=converted,
        rate=rate.quantize(RATE_PLACES).normalize(),
        route=route,
        legs=legs,
        notes=notes,
    )
