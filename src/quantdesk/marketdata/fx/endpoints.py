"""GET /fx/compare and /fx/convert over stored rates (thin: one service call each)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import require
from quantdesk.dependencies import SessionDep
from quantdesk.kit.app_state import app_state
from quantdesk.marketdata.fx.compare import compare
from quantdesk.marketdata.fx.convert import convert
from quantdesk.marketdata.fx.schemas import (
    ComparisonRead,
    ComparisonResponse,
    ConversionRead,
    ConversionResponse,
    FxMeta,
)

router = APIRouter(tags=["reference data"], dependencies=[Depends(require(Scope.READ_TICKERS))])

CURRENCY = r"^[A-Za-z]{3}$"
AMOUNT = r"^[0-9]{1,15}(\.[0-9]{1,12})?$"
PAIR = r"^[A-Za-z]{3}[/_-]?[A-Za-z]{3}$"
OnDate = Annotated[
    date | None, Query(alias="date", description="YYYY-MM-DD; rates in force that day")
]


def _pair(pair: str) -> tuple[str, str]:
    letters = "".join(ch for ch in pair if ch.isalpha()).upper()
    return letters[:3], letters[3:]


def _providers(*names: str) -> str:
    found = sorted({part for name in names for part in name.split(",") if part})
    return ",".join(found) or "none"


@router.get(
    "/fx/compare",
    response_model=ComparisonResponse,
    description=(
        "One currency pair across every stored source (the ECB reference rate, Bank "
        "Al-Maghrib's transfer mid and banknote buy/sell, provider chains): each source's "
        "mid/buy/sell on its latest publication day (on or before `date`), spread in basis "
        "points, the best place to buy and to sell, and the EUR/USD each non-ECB source "
        "implies (e.g. BAM's EUR/MAD ÷ USD/MAD) against the ECB's, in bps. `notes` say what "
        "is missing and which setting or job brings it."
    ),
)
async def get_fx_compare(
    request: Request,
    session: SessionDep,
    pair: Annotated[str, Query(pattern=PAIR, description="BASE/QUOTE, e.g. USD/MAD")],
    on: OnDate = None,
) -> ComparisonResponse:
    base, quote = _pair(pair)
    key = app_state(request.app).settings.bam_api_key
    found = await compare(
        session,
        base,
        quote,
        on=on,
        bam_configured=key is not None and bool(key.get_secret_value()),
    )
    days = [s.day for s in found.sources] + [r.day for r in found.reference]
    return ComparisonResponse(
        data=ComparisonRead.of(found),
        meta=FxMeta(
            provider=_providers(
                *(s.provider for s in found.sources), *(r.provider for r in found.reference)
            ),
            as_of=max(days) if days else None,
        ),
    )


@router.get(
    "/fx/convert",
    response_model=ConversionResponse,
    description=(
        "Convert `amount` with stored mid rates: the pair itself (published either way), "
        "else through EUR, else through USD; `route` and `legs` say which rates (source, "
        "publication day) were used. Amounts are Decimal strings."
    ),
)
async def get_fx_convert(
    session: SessionDep,
    source: Annotated[str, Query(alias="from", pattern=CURRENCY, description="e.g. USD")],
    target: Annotated[str, Query(alias="to", pattern=CURRENCY, description="e.g. JPY")],
    amount: Annotated[
        str,
        Query(
            pattern=AMOUNT,
            description="A non-negative decimal, up to 15 digits and 12 decimals, e.g. 1250.50",
        ),
    ] = "1",
    on: OnDate = None,
) -> ConversionResponse:
    found = await convert(session, source, target, Decimal(amount), on=on)
    return ConversionResponse(
        data=ConversionRead.of(found),
        meta=FxMeta(
            provider=_providers(*(leg.provider for leg in found.legs)),
            as_of=max((leg.day for leg in found.legs), default=None),
        ),
    )
