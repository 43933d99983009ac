"""API schemas for /fx/compare and /fx/convert. Rates are numbers (as published); amounts in
/fx/convert are Decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from quantdesk.marketdata.fx.compare import Comparison
from quantdesk.marketdata.fx.convert import Conversion


def plain(value: Decimal) -> str:
    """A Decimal as a plain string, no exponent, no trailing zeros ("10", "0.0915")."""
    return format(value.normalize(), "f")


class SourceRateRead(BaseModel):
    source: str = Field(description="The publisher: ecb, bam, or a provider chain's name")
    provider: str = Field(description="Where the stored copy came from")
    as_of: dt.date = Field(description="The publication day used (latest on or before `date`)")
    mid: float | None = Field(description="Reference / transfer mid rate: 1 base = mid quote")
    buy: float | None = Field(description="What the source's counters pay for one base")
    sell: float | None = Field(description="What the source's counters charge for one base")
    spread_bps: float | None = Field(description="(sell - buy) / midpoint, basis points")
    route: str = Field(description='How the mid was found: "direct", "inverted", "via EUR"...')


class BestPriceRead(BaseModel):
    source: str
    rate: float
    as_of: dt.date


class ReferenceRateRead(BaseModel):
    pair: str
    rate: float
    as_of: dt.date
    provider: str


class CrossCheckRead(BaseModel):
    source: str
    via: str = Field(description="The currency both legs are quoted against (BAM: MAD)")
    as_of: dt.date
    implied_eur_usd: float = Field(description="EUR/via ÷ USD/via from the source's mid rates")
    ecb_eur_usd: float
    ecb_as_of: dt.date
    diff_bps: float = Field(description="(implied - ECB) / ECB, basis points")


class ComparisonRead(BaseModel):
    pair: str
    sources: list[SourceRateRead]
    best_buy: BestPriceRead | None = Field(
        description="Cheapest place to buy one base: the lowest `sell` among sources"
    )
    best_sell: BestPriceRead | None = Field(
        description="Best place to sell one base: the highest `buy` among sources"
    )
    spread_bps: float | None = Field(
        description="best_buy against best_sell: the tightest round trip across sources, bps"
    )
    mid_dispersion_bps: float | None = Field(
        description="(max - min) / mean of the sources' mid rates, bps"
    )
    reference: list[ReferenceRateRead] = Field(
        description="The ECB's EUR rates for the pair's currencies (those it publishes)"
    )
    implied_cross_check: list[CrossCheckRead]
    notes: list[str] = Field(description="What is missing and how to get it")

    @classmethod
    def of(cls, found: Comparison) -> ComparisonRead:
        return cls(
            pair=f"{found.base}/{found.quote}",
            sources=[
                SourceRateRead(
                    source=s.source,
                    provider=s.provider,
                    as_of=s.day,
                    mid=s.mid,
                    buy=s.buy,
                    sell=s.sell,
                    spread_bps=s.spread_bps,
                    route=s.route,
                )
                for s in found.sources
            ],
            best_buy=BestPriceRead(
                source=found.best_buy.source, rate=found.best_buy.rate, as_of=found.best_buy.day
            )
            if found.best_buy
            else None,
            best_sell=BestPriceRead(
                source=found.best_sell.source,
                rate=found.best_sell.rate,
                as_of=found.best_sell.day,
            )
            if found.best_sell
            else None,
            spread_bps=found.spread_bps,
            mid_dispersion_bps=found.mid_dispersion_bps,
            reference=[
                ReferenceRateRead(pair=r.pair, rate=r.rate, as_of=r.day, provider=r.provider)
                for r in found.reference
            ],
            implied_cross_check=[
                CrossCheckRead(
                    source=c.source,
                    via=c.via,
                    as_of=c.day,
                    implied_eur_usd=c.implied,
                    ecb_eur_usd=c.reference,
                    ecb_as_of=c.reference_day,
                    diff_bps=c.diff_bps,
                )
                for c in found.cross_checks
            ],
            notes=found.notes,
        )


class FxMeta(BaseModel):
    provider: str = Field(description="Every provider behind the answer (comma-separated)")
    as_of: dt.date | None = Field(description="The newest publication day used")


class ComparisonResponse(BaseModel):
    data: ComparisonRead
    meta: FxMeta


class ConversionLegRead(BaseModel):
    pair: str
    rate: str = Field(description="1 base = rate quote, as used (Decimal string)")
    published_pair: str
    published_rate: str
    inverted: bool
    as_of: dt.date
    source: str
    provider: str


class ConversionRead(BaseModel):
    from_currency: str = Field(serialization_alias="from")
    to: str
    amount: str
    converted: str = Field(description="amount * rate, to 6 decimal places")
    rate: str
    route: str = Field(description='"direct", "via EUR", "via USD" or "identity"')
    legs: list[ConversionLegRead]
    notes: list[str]

    @classmethod
    def of(cls, found: Conversion) -> ConversionRead:
        return cls(
            from_currency=found.source_currency,
            to=found.target_currency,
            amount=plain(found.amount),
            converted=format(found.converted, "f"),
            rate=plain(found.rate),
            route=found.route,
            legs=[
                ConversionLegRead(
                    pair=f"{leg.base}/{leg.quote}",
                    rate=plain(leg.rate.quantize(Decimal("1E-12"))),
                    published_pair=leg.published_pair,
                    published_rate=plain(leg.published),
                    inverted=leg.inverted,
                    as_of=leg.day,
                    source=leg.source,
                    provider=leg.provider,
                )
                for leg in found.legs
            ],
            notes=found.notes,
        )


class ConversionResponse(BaseModel):
    data: ConversionRead
    meta: FxMeta
