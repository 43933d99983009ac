"""Euro foreign exchange reference rates from the European Central Bank (the daily XML).

The feed (`eurofxref-daily.xml`, or `eurofxref-hist-90d.xml` for history) is a gesmes
envelope of `<Cube time="YYYY-MM-DD">` days, each holding `<Cube currency="USD" rate="1.0921"/>`
entries: one euro buys `rate` units. Other bases are crossed through the euro. The XML is parsed
with defusedxml (no entity expansion, no external fetches).
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

from quantdesk.marketdata.providers.base import DataKind, FxRates, FxRatesQuery
from quantdesk.marketdata.providers.errors import MalformedResponse
from quantdesk.marketdata.providers.fx import cross_rates
from quantdesk.marketdata.providers.http import HttpClient

ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
EUROFXREF_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


def parse_eurofxref(body: bytes) -> list[tuple[int, dict[str, float]]]:
    """Every day in the document, newest first: (epoch seconds of the day, {currency: rate})."""
    try:
        root: Element = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise MalformedResponse(f"ECB: not XML ({exc})") from None
    except Exception as exc:  # defusedxml refuses entities, DTDs and external references
        raise MalformedResponse(f"ECB: refused XML ({type(exc).__name__})") from None
    days: list[tuple[int, dict[str, float]]] = []
    for cube in root.iter(f"{EUROFXREF_NS}Cube"):
        day = cube.get("time")
        if day is None:
            continue
        try:
            ts = int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
        except ValueError:
            raise MalformedResponse(f"ECB: bad date {day!r}") from None
        rates: dict[str, float] = {}
        for entry in cube.findall(f"{EUROFXREF_NS}Cube"):
            currency, rate = entry.get("currency"), entry.get("rate")
            if currency is None or rate is None:
                continue
            try:
                rates[currency.upper()] = float(rate)
            except ValueError:
                rates[currency.upper()] = float("nan")  # quarantined by the quality checks
        days.append((ts, rates))
    if not days:
        raise MalformedResponse("ECB: no <Cube time=...> in the document")
    days.sort(key=lambda item: item[0], reverse=True)
    return days


class EcbProvider:
    def __init__(self, http: HttpClient, *, url: str = ECB_DAILY_URL, name: str = "ecb") -> None:
        self.name = name
        self.kinds = frozenset({DataKind.FX_RATES})
        self.http = http
        self.url = url

    async def fetch_fx_rates(self, query: FxRatesQuery) -> FxRates:
        response = await self.http.get(self.url)
        as_of, per_euro = parse_eurofxref(response.content)[0]
        # One euro buys `rate` units: one unit costs 1/rate euros.
        prices = {c: (1.0 / r if r > 0 else float("nan")) for c, r in per_euro.items()}
        base = query.base.upper()
        rates = cross_rates(prices, pivot="EUR", base=base, symbols=query.symbols)
        return FxRates(base=base, as_of=as_of, rates=rates)

    async def aclose(self) -> None:
        return None
