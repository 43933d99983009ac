"""Cross rates from a table quoted against one pivot currency (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from quantdesk.marketdata.providers.errors import ProviderDataNotFound


def cross_rates(
    prices: Mapping[str, float], *, pivot: str, base: str, symbols: Iterable[str] = ()
) -> dict[str, float]:
    """`prices[c]` is the price of one unit of c in the pivot currency. Returns how many units
    of each currency one `base` buys: rate(base -> x) = price(base) / price(x)."""
    table = {pivot: 1.0, **prices}
    base_price = table.get(base)
    if base_price is None or base_price <= 0:
        raise ProviderDataNotFound(f"no rate for {base} against {pivot}")
    asked = [symbol.upper() for symbol in symbols]
    wanted = asked or [c for c in table if c != base]
    rates: dict[str, float] = {}
    for currency in wanted:
        price = table.get(currency)
        if price is None:
            continue
        # A non-positive or NaN price stays in, so the quality checks quarantine it visibly.
        rates[currency] = base_price / price if price > 0 else float("nan")
    if asked and not rates:
        raise ProviderDataNotFound(f"none of {', '.join(asked)} is quoted against {pivot}")
    return rates
