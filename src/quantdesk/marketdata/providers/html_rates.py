"""A generic central-bank rate-table scraper, configured by URL and CSS selectors.

Central banks without an API (the product notes name Bank Al-Maghrib's USD/MAD reference
rate) publish an HTML table of "1 unit of currency = x local currency". Each configured table
(`html_rate_tables` setting, chain entry `html:<name>`) names the row, currency and rate cells;
this provider reads them with selectolax (lexbor) and crosses them into any base. Numbers may
use a decimal comma and spaces as thousands separators ("10 850,25").
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from selectolax.lexbor import LexborHTMLParser

from quantdesk.config import HtmlRateTable
from quantdesk.marketdata.providers.base import DataKind, FxRates, FxRatesQuery
from quantdesk.marketdata.providers.errors import MalformedResponse
from quantdesk.marketdata.providers.fx import cross_rates
from quantdesk.marketdata.providers.http import HttpClient

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_number(text: str) -> float:
    """'10,8523' / '10.8523' / '1 234,5' / '1,234.5' -> float; ValueError when not a number."""
    cleaned = _SPACES.sub("", text)
    if "," in cleaned and "." in cleaned:
        # Whichever comes last is the decimal separator.
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", ".")
    return float(cleaned)


def parse_rate_table(html: str, table: HtmlRateTable) -> tuple[dict[str, float], int | None]:
    """({currency: price of one unit in the page currency}, the page's date if configured)."""
    tree = LexborHTMLParser(html)
    pattern = re.compile(table.currency_pattern)
    prices: dict[str, float] = {}
    for row in tree.css(table.row_selector):
        currency_cell = row.css_first(table.currency_selector)
        rate_cell = row.css_first(table.rate_selector)
        if currency_cell is None or rate_cell is None:
            continue  # header or spacer rows
        found = pattern.search(currency_cell.text(strip=True))
        if found is None:
            continue
        currency = found.group(1).upper()
        try:
            price = parse_number(rate_cell.text(strip=True))
            if table.units_selector is not None:
                units_cell = row.css_first(table.units_selector)
                units = parse_number(units_cell.text(strip=True)) if units_cell else 1.0
                price = price / units if units > 0 else float("nan")
        except ValueError:
            price = float("nan")  # kept, so the quality checks quarantine it with a reason
        prices[currency] = price
    if not prices:
        raise MalformedResponse(
            f"no rate rows matched {table.row_selector!r} / {table.currency_selector!r}"
        )
    as_of = None
    if table.date_selector is not None:
        node = tree.css_first(table.date_selector)
        if node is not None:
            found_date = re.search(r"\d[\d./-]+\d", node.text(strip=True))
            if found_date is not None:
                try:
                    day = datetime.strptime(found_date.group(0), table.date_format).replace(
                        tzinfo=UTC
                    )
                    as_of = int(day.timestamp())
                except ValueError:
                    as_of = None
    return prices, as_of


class HtmlRatesProvider:
    def __init__(self, name: str, table: HtmlRateTable, http: HttpClient) -> None:
        self.name = name
        self.kinds = frozenset({DataKind.FX_RATES})
        self.table = table
        self.http = http

    async def fetch_fx_rates(self, query: FxRatesQuery) -> FxRates:
        response = await self.http.get(self.table.url)
        prices, as_of = parse_rate_table(response.text, self.table)
        base = query.base.upper()
        pivot = self.table.quote_currency.upper()
        rates = cross_rates(prices, pivot=pivot, base=base, symbols=query.symbols)
        # A page without a date is taken as published now (the fetch time).
        return FxRates(
            base=base, as_of=as_of if as_of is not None else int(time.time()), rates=rates
        )

    async def aclose(self) -> None:
        return None
