"""Financial ratios from reported statements (pure; docs/research.md lists every formula).

A statement is a flat mapping of line-item name -> value (money in the reporting currency,
per-share items per share, shares as a count). Names follow Polygon's financials
(`revenues`, `net_income_loss`, ...); `ALIASES` lists the other spellings accepted. A ratio
whose inputs are missing, or whose denominator is zero or negative where that makes it
meaningless (P/E of a loss, equity below zero), is `None`, with the missing inputs named.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Canonical line item -> the names it may appear under (first found wins).
ALIASES: dict[str, tuple[str, ...]] = {
    "revenues": ("revenues", "revenue", "total_revenue"),
    "cost_of_revenue": ("cost_of_revenue", "cost_of_revenues"),
    "gross_profit": ("gross_profit",),
    "operating_income": ("operating_income_loss", "operating_income"),
    "net_income": ("net_income_loss", "net_income", "net_income_loss_attributable_to_parent"),
    "eps_diluted": ("diluted_earnings_per_share", "eps_diluted"),
    "equity": ("equity_attributable_to_parent", "equity", "stockholders_equity"),
    "short_term_debt": ("short_term_debt",),
    "long_term_debt": ("long_term_debt",),
    "cash": ("cash_and_short_term_investments", "cash_and_equivalents", "cash"),
    "depreciation_amortization": ("depreciation_and_amortization",),
    "shares_outstanding": ("shares_outstanding", "diluted_average_shares"),
}


def item(statement: Mapping[str, object], name: str) -> float | None:
    """The canonical line item `name` of a statement, as a finite float, or None."""
    for key in ALIASES.get(name, (name,)):
        value = statement.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


@dataclass(frozen=True, slots=True)
class Ratio:
    name: str
    value: float | None
    formula: str
    missing: tuple[str, ...] = field(default=())


Compute = Callable[..., float | None]


def _ratio(name: str, formula: str, inputs: dict[str, float | None], compute: Compute) -> Ratio:
    """`compute(*inputs)` unless an input is missing (then named in `missing`)."""
    missing = tuple(key for key, value in inputs.items() if value is None)
    if missing:
        return Ratio(name, None, formula, missing)
    value = compute(*inputs.values())
    if value is None or not math.isfinite(value):
        return Ratio(name, None, formula)
    return Ratio(name, float(value), formula)


def _pos_div(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _pct(a: float, b: float) -> float | None:
    return a / b * 100.0 if b > 0 else None


def _growth(a: float, b: float) -> float | None:
    return (a / b - 1.0) * 100.0 if b > 0 else None


def compute_ratios(
    latest: Mapping[str, object],
    previous: Mapping[str, object] | None = None,
    price: float | None = None,
) -> list[Ratio]:
    """Every ratio for the `latest` statement; growth and average equity need `previous`
    (the period before), market ratios need `price` (one share, reporting currency)."""
    prev = previous or {}
    revenue = item(latest, "revenues")
    gross = item(latest, "gross_profit")
    cost = item(latest, "cost_of_revenue")
    if gross is None and revenue is not None and cost is not None:
        gross = revenue - cost
    operating = item(latest, "operating_income")
    net = item(latest, "net_income")
    equity = item(latest, "equity")
    prev_equity = item(prev, "equity")
    long_debt = item(latest, "long_term_debt")
    debt = None if long_debt is None else long_debt + (item(latest, "short_term_debt") or 0.0)
    cash = item(latest, "cash")
    shares = item(latest, "shares_outstanding")
    da = item(latest, "depreciation_amortization")
    market_cap = price * shares if price is not None and shares is not None else None
    ebitda = operating + da if operating is not None and da is not None else None
    ev = None
    if market_cap is not None and debt is not None and cash is not None:
        ev = market_cap + debt - cash
    avg_equity = equity
    if equity is not None and prev_equity is not None:
        avg_equity = (equity + prev_equity) / 2.0
    return [
        _ratio(
            "gross_margin_pct",
            "gross_profit / revenues x 100",
            {"gross_profit": gross, "revenues": revenue},
            _pct,
        ),
        _ratio(
            "operating_margin_pct",
            "operating_income / revenues x 100",
            {"operating_income": operating, "revenues": revenue},
            _pct,
        ),
        _ratio(
            "net_margin_pct",
            "net_income / revenues x 100",
            {"net_income": net, "revenues": revenue},
            _pct,
        ),
        _ratio(
            "revenue_growth_pct",
            "(revenues / previous revenues - 1) x 100",
            {"revenues": revenue, "previous revenues": item(prev, "revenues")},
            _growth,
        ),
        _ratio(
            "net_income_growth_pct",
            "(net_income / previous net_income - 1) x 100",
            {"net_income": net, "previous net_income": item(prev, "net_income")},
            _growth,
        ),
        _ratio(
            "roe_pct",
            "net_income / average(equity, previous equity) x 100",
            {"net_income": net, "equity": avg_equity},
            _pct,
        ),
        _ratio(
            "debt_to_equity",
            "(short_term_debt + long_term_debt) / equity",
            {"long_term_debt": debt, "equity": equity},
            _pos_div,
        ),
        _ratio(
            "pe",
            "price / diluted EPS",
            {"price": price, "diluted_earnings_per_share": item(latest, "eps_diluted")},
            _pos_div,
        ),
        _ratio(
            "pb",
            "price x shares_outstanding / equity",
            {"market_cap": market_cap, "equity": equity},
            _pos_div,
        ),
        _ratio(
            "market_cap",
            "price x shares_outstanding",
            {"price": price, "shares_outstanding": shares},
            lambda p, s: p * s,
        ),
        _ratio(
            "ev_ebitda",
            "(market_cap + debt - cash) / (operating_income + depreciation_and_amortization)",
            {"enterprise_value": ev, "ebitda": ebitda},
            _pos_div,
        ),
    ]


__all__ = ["ALIASES", "Ratio", "compute_ratios", "item"]
