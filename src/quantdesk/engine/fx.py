"""FX arithmetic (pure): a rate for a pair from published quotes (direct, inverted, or crossed
through one intermediate currency), spreads and cross-checks in basis points.

A quote `(base, quote) -> rate` means 1 base = rate units of quote. A publisher's buy/sell
rates are its counters' prices for one `base`: `buy` is what it pays, `sell` what it charges.
Inverting a buy/sell quote swaps the sides: a bank selling Q for B at `s` B per Q buys B at
1/s Q per B (and sells B at 1/buy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

BPS = 10_000.0
Kind = Literal["mid", "buy", "sell"]
PIVOTS = ("EUR", "USD")


@dataclass(frozen=True)
class Leg:
    """One published quote used as `base`/`quote` (inverted when published the other way)."""

    base: str
    quote: str
    rate: float
    inverted: bool


@dataclass(frozen=True)
class Derived:
    """A pair's rate and the legs it came from; `route` is "direct" or "via <currency>"
    (e.g. "via EUR")."""

    rate: float
    route: str
    legs: tuple[Leg, ...]


def _leg(quotes: Mapping[tuple[str, str], float], base: str, quote: str) -> Leg | None:
    rate = quotes.get((base, quote))
    if rate is not None and rate > 0:
        return Leg(base, quote, rate, inverted=False)
    inverse = quotes.get((quote, base))
    if inverse is not None and inverse > 0:
        return Leg(base, quote, 1.0 / inverse, inverted=True)
    return None


def intermediates(quotes: Iterable[tuple[str, str]], base: str, quote: str) -> list[str]:
    """Currencies a cross could go through: EUR and USD first, then the rest by name."""
    seen = {currency for pair in quotes for currency in pair} - {base, quote}
    return [c for c in PIVOTS if c in seen] + sorted(seen - set(PIVOTS))


def derive(
    quotes: Mapping[tuple[str, str], float],
    base: str,
    quote: str,
    *,
    via: Iterable[str] | None = None,
) -> Derived | None:
    """base/quote from mid quotes: published either way, else crossed through the first
    currency of `via` (default: EUR, USD, then any other) quoted against both."""
    if base == quote:
        return Derived(1.0, "direct", ())
    direct = _leg(quotes, base, quote)
    if direct is not None:
        return Derived(direct.rate, "direct", (direct,))
    for pivot in via if via is not None else intermediates(quotes, base, quote):
        first, second = _leg(quotes, base, pivot), _leg(quotes, pivot, quote)
        if first is not None and second is not None:
            return Derived(first.rate * second.rate, f"via {pivot}", (first, second))
    return None


def buy_sell(
    buys: Mapping[tuple[str, str], float],
    sells: Mapping[tuple[str, str], float],
    base: str,
    quote: str,
) -> tuple[float | None, float | None]:
    """(buy, sell) of one base in quote from published counter rates, direct or inverted;
    never crossed (a cross would add two spreads together)."""
    buy, sell = buys.get((base, quote)), sells.get((base, quote))
    if buy is not None or sell is not None:
        return buy, sell
    inverse_buy, inverse_sell = buys.get((quote, base)), sells.get((quote, base))
    return (
        1.0 / inverse_sell if inverse_sell else None,
        1.0 / inverse_buy if inverse_buy else None,
    )


def spread_bps(buy: float | None, sell: float | None) -> float | None:
    """(sell - buy) over their midpoint, in basis points."""
    if buy is None or sell is None or buy + sell <= 0:
        return None
    return round((sell - buy) / ((sell + buy) / 2.0) * BPS, 2)


def diff_bps(value: float, reference: float) -> float:
    """How far `value` is from `reference`, in basis points of the reference."""
    return round((value - reference) / reference * BPS, 2)


def dispersion_bps(values: Iterable[float]) -> float | None:
    """(max - min) over the mean, in basis points: how far apart sources' mid rates are."""
    found = list(values)
    if len(found) < 2:
        return None
    mean = sum(found) / len(found)
    return round((max(found) - min(found)) / mean * BPS, 2) if mean > 0 else None
