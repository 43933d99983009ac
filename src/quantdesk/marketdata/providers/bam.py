"""Moroccan dirham (MAD) rates from Bank Al-Maghrib's API (api.centralbankofmorocco.ma).

Two endpoints of the "Marché des changes" product, each a JSON list, with the subscription key
in the `Ocp-Apim-Subscription-Key` header and optional `libDevise` (currency) and `date`
(YYYY-MM-DD) query parameters:

* `cours/Version1/api/CoursBBE`: foreign banknotes, published from 08:30 (Casablanca):
  `{"achatClientele": 9.1388, "venteClientele": 10.6208, "libDevise": "USD",
  "uniteDevise": 1, "date": "2023-05-12T08:30:00"}`: what the bank pays (buy) and charges
  (sell) in MAD for `uniteDevise` units of the currency;
* `cours/Version1/api/CoursVirement`: transfer rates, published from 12:30:
  `{"moyen": 10.9884, "libDevise": "EUR", "uniteDevise": 1, "date": "2023-05-11T12:30:00"}`.

There is no fixing on Moroccan public holidays nor on 25 and 26 December: the API answers
204 No Content, which is an empty board, not an error. JPY, SEK and NOK are quoted per 100
units (`uniteDevise` 100): rates are divided by the unit so every stored rate is MAD per one
unit. The API repeats some currencies in one answer: duplicate rows are dropped (the first
kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from pydantic import SecretStr

from quantdesk.marketdata.providers.base import DataKind, FxRates, FxRatesQuery
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    ProviderDataNotFound,
    ProviderNotConfigured,
)
from quantdesk.marketdata.providers.fx import cross_rates
from quantdesk.marketdata.providers.http import HttpClient

BAM_BASE_URL = "https://api.centralbankofmorocco.ma/"
BANKNOTES_PATH = "cours/Version1/api/CoursBBE"
TRANSFER_PATH = "cours/Version1/api/CoursVirement"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
KEY_SETTING = "QUANTDESK_BAM_API_KEY"


@dataclass(frozen=True)
class BamRate:
    """MAD per one unit of `currency` (already divided by the published unit)."""

    currency: str
    day: date
    rate: float


@dataclass(frozen=True)
class BamBoard:
    """One day's MAD rates: transfer mid, banknote buy and sell. Empty lists when BAM
    published nothing (`holiday`: it answered 204)."""

    day: date | None
    mid: list[BamRate] = field(default_factory=list)
    buy: list[BamRate] = field(default_factory=list)
    sell: list[BamRate] = field(default_factory=list)
    duplicates: int = 0  # repeated rows the API sent and we dropped
    holiday: bool = False

    @property
    def empty(self) -> bool:
        return not (self.mid or self.buy or self.sell)


def _number(item: dict[str, Any], name: str, index: int) -> float:
    value = item.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedResponse(f"BAM: row {index} has no numeric {name!r}")
    try:
        return float(value)
    except ValueError:
        raise MalformedResponse(f"BAM: row {index} has a non-numeric {name!r}") from None


def _day(item: dict[str, Any], index: int) -> date:
    raw = item.get("date")
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).date()
    except ValueError:
        raise MalformedResponse(f"BAM: row {index} has no valid date ({raw!r})") from None


def parse_rows(body: Any, fields: tuple[str, ...]) -> tuple[dict[str, list[BamRate]], int]:
    """{field: rates} for each price field of a CoursBBE/CoursVirement answer, per unit, and
    how many duplicate rows were dropped (same currency and day, the first kept)."""
    if not isinstance(body, list):
        raise MalformedResponse("BAM: the answer is not a JSON list")
    parsed: dict[str, list[BamRate]] = {name: [] for name in fields}
    seen: set[tuple[str, date]] = set()
    duplicates = 0
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            raise MalformedResponse(f"BAM: row {index} is not an object")
        currency = str(item.get("libDevise") or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise MalformedResponse(f"BAM: row {index} has no currency code (libDevise)")
        day = _day(item, index)
        if (currency, day) in seen:
            duplicates += 1
            continue
        seen.add((currency, day))
        unit = _number(item, "uniteDevise", index) if "uniteDevise" in item else 1.0
        if unit <= 0:
            raise MalformedResponse(f"BAM: row {index} has a non-positive uniteDevise")
        for name in fields:
            price = _number(item, name, index)
            if not price > 0:  # also NaN
                raise MalformedResponse(f"BAM: row {index} has a non-positive {name!r}")
            parsed[name].append(BamRate(currency, day, price / unit))
    return parsed, duplicates


class BamProvider:
    """MAD rates. In an fx_rates chain (`bam`) it answers the transfer mid rates crossed to
    the asked base; `fetch_board` gives the whole day (mid, buy, sell) for `fx.fetch_bam`."""

    def __init__(
        self,
        http: HttpClient,
        *,
        api_key: SecretStr | None,
        base_url: str = BAM_BASE_URL,
        name: str = "bam",
    ) -> None:
        self.name = name
        self.kinds = frozenset({DataKind.FX_RATES})
        self.http = http
        self.api_key = api_key
        self.base_url = base_url.rstrip("/") + "/"

    def _headers(self) -> dict[str, str]:
        if self.api_key is None or not self.api_key.get_secret_value():
            raise ProviderNotConfigured(f"bam: set {KEY_SETTING}")
        return {KEY_HEADER: self.api_key.get_secret_value()}

    async def _get(self, path: str, day: date | None) -> Any | None:
        """The JSON list, or None when BAM answered 204 (no fixing that day)."""
        params = {"date": day.isoformat()} if day is not None else None
        response = await self.http.get(self.base_url + path, params=params, headers=self._headers())
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise MalformedResponse("BAM: the answer is not JSON") from None

    async def fetch_board(self, day: date | None = None) -> BamBoard:
        """Banknote buy/sell and transfer mid rates of `day` (today when None)."""
        notes = await self._get(BANKNOTES_PATH, day)
        transfer = await self._get(TRANSFER_PATH, day)
        if notes is None and transfer is None:
            return BamBoard(day=day, holiday=True)
        buy_sell, notes_duplicates = parse_rows(notes or [], ("achatClientele", "venteClientele"))
        mid, transfer_duplicates = parse_rows(transfer or [], ("moyen",))
        days = [r.day for rows in (*buy_sell.values(), *mid.values()) for r in rows]
        return BamBoard(
            day=max(days) if days else day,
            mid=mid["moyen"],
            buy=buy_sell["achatClientele"],
            sell=buy_sell["venteClientele"],
            duplicates=notes_duplicates + transfer_duplicates,
            holiday=not days,
        )

    async def fetch_fx_rates(self, query: FxRatesQuery) -> FxRates:
        """Today's transfer mid rates crossed to `query.base` through MAD."""
        transfer = await self._get(TRANSFER_PATH, None)
        if transfer is None:
            raise ProviderDataNotFound("bam: no fixing today (holiday)")
        parsed, _ = parse_rows(transfer, ("moyen",))
        rows = parsed["moyen"]
        if not rows:
            raise ProviderDataNotFound("bam: no transfer rates in the answer")
        day = max(row.day for row in rows)
        prices = {row.currency: row.rate for row in rows if row.day == day}
        base = query.base.upper()
        rates = cross_rates(prices, pivot="MAD", base=base, symbols=query.symbols)
        as_of = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        return FxRates(base=base, as_of=as_of, rates=rates)

    async def aclose(self) -> None:
        return None
