"""The research demo data: project-written sample files shipped in this package (data/),
loaded by `quantdesk demo load` into the stored fundamentals and fund NAVs.

Each file names what it is in its provider label, which every answer built on it repeats in
`meta.provider`; none of it is live data (docs/research.md).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import numpy as np
import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.marketdata.providers.base import Fundamentals, Series
from quantdesk.marketdata.reference.service import fundamentals_service, series_service
from quantdesk.models import SeriesKind

DATA = files("quantdesk.research") / "data"
MILLION = 1_000_000.0


@dataclass(frozen=True)
class ResearchDemoResult:
    fundamentals: int  # periods stored
    fund_navs: int  # observations stored
    provider_fundamentals: str
    provider_funds: str


def _epoch(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def sample_fundamentals() -> tuple[str, list[Fundamentals]]:
    """(provider label, one Fundamentals per company period) from data/fundamentals.json;
    money and share counts in currency units and shares (the file keeps millions)."""
    document: dict[str, Any] = orjson.loads((DATA / "fundamentals.json").read_bytes())
    out: list[Fundamentals] = []
    for symbol, company in document["companies"].items():
        for period in company["periods"]:
            values: dict[str, float | str | None] = {
                name: float(value) * MILLION for name, value in period["millions"].items()
            }
            values.update({name: float(v) for name, v in period["per_share"].items()})
            values["currency"] = company["currency"]
            values["fiscal_year"] = str(period["fiscal_year"])
            values["fiscal_period"] = period["fiscal_period"]
            values["end_date"] = period["as_of"]
            out.append(Fundamentals(symbol=symbol, as_of=_epoch(period["as_of"]), values=values))
    return str(document["provider"]), out


def sample_fund_navs() -> tuple[str, list[Series]]:
    """(provider label from the file's first comment line, one Series per fund); `#` lines
    are comments."""
    text = (DATA / "fund_navs.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    provider = lines[0].removeprefix("#").strip().removeprefix("provider:").strip()
    body = "\n".join(line for line in lines if not line.startswith("#"))
    rows: dict[str, list[tuple[int, float]]] = {}
    for row in csv.DictReader(io.StringIO(body)):
        rows.setdefault(row["fund_id"], []).append((_epoch(row["date"]), float(row["nav"])))
    series = [
        Series(
            series_id=fund,
            ts=np.asarray([ts for ts, _ in points], dtype=np.int64),
            values=np.asarray([nav for _, nav in points], dtype=np.float64),
        )
        for fund, points in rows.items()
    ]
    return provider, series


async def load_research_demo(session: AsyncSession) -> ResearchDemoResult:
    """Upsert the samples (idempotent: the tables are keyed by symbol/fund and day)."""
    fundamentals_provider, periods = sample_fundamentals()
    for fundamentals in periods:
        await fundamentals_service.store(
            session, fundamentals=fundamentals, provider=fundamentals_provider
        )
    funds_provider, funds = sample_fund_navs()
    navs = 0
    for series in funds:
        navs += len(series)
        await series_service.store(
            session, kind=SeriesKind.FUND_NAV, series=series, provider=funds_provider
        )
    return ResearchDemoResult(len(periods), navs, fundamentals_provider, funds_provider)
