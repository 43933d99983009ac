"""The demo data set: genuine historical series shipped inside the `backtesting` package.

GOOG daily (2004-2013), EURUSD hourly (2017-2018) and BTCUSD monthly (2012-2024) are read
from the installed distribution with importlib.resources, validated and ingested like any
other file, so `make run` serves real market history without network access.
`quantdesk demo load` then backfills the signals over that history (`quantdesk.signals.demo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import as_file, files

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata import frames
from quantdesk.marketdata.schemas import InstrumentCreate
from quantdesk.marketdata.service import IngestResult, bar_service, instrument_service
from quantdesk.models import AssetClass

DEMO_PACKAGE = "backtesting.test"


@dataclass(frozen=True)
class DemoSeries:
    resource: str
    timeframe: Timeframe
    instrument: InstrumentCreate


DEMO_SERIES = (
    DemoSeries(
        "GOOG.csv",
        Timeframe.D1,
        InstrumentCreate(
            symbol="GOOG",
            name="Alphabet Inc. (Google) Class C",
            exchange="NASDAQ",
            asset_class=AssetClass.EQUITY,
            currency="USD",
            sector="Communication Services",
            industry="Internet Content & Information",
            country="US",
        ),
    ),
    DemoSeries(
        "EURUSD.csv",
        Timeframe.H1,
        InstrumentCreate(
            symbol="EURUSD",
            name="Euro / US Dollar",
            exchange="FOREX",
            asset_class=AssetClass.FX,
            currency="USD",
        ),
    ),
    DemoSeries(
        # Monthly bars labelled by the last day of each month, as the source ships them.
        "BTCUSD.csv",
        Timeframe.MN1,
        InstrumentCreate(
            symbol="BTCUSD",
            name="Bitcoin / US Dollar",
            exchange="CRYPTO",
            asset_class=AssetClass.CRYPTO,
            currency="USD",
        ),
    ),
)


async def load_demo(session: AsyncSession, *, force: bool = False) -> list[IngestResult | str]:
    """Load every demo series; a series already fully stored is skipped unless `force`."""
    outcomes: list[IngestResult | str] = []
    for series in DEMO_SERIES:
        with as_file(files(DEMO_PACKAGE) / series.resource) as path:
            frame = frames.read_csv(path, name=f"{DEMO_PACKAGE}/{series.resource}")
        instrument = await instrument_service.upsert(session, series.instrument)
        coverage = {c.timeframe: c for c in await instrument_service.coverage(session, instrument)}
        stored = coverage.get(series.timeframe)
        if not force and stored is not None and stored.count >= len(frame):
            outcomes.append(f"{instrument.symbol}: already loaded ({stored.count} bars)")
            continue
        outcomes.append(
            await bar_service.ingest(
                session, symbol=instrument.symbol, timeframe=series.timeframe, frame=frame
            )
        )
    return outcomes
