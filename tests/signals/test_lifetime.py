"""How long a signal lives: `signals_expiry_bars`, overridden per strategy and timeframe by
`signals_lifetime_bars` (checked at start-up), stored on each signal when it is made."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.kit.timeframes import Timeframe
from quantdesk.kit.timeutil import from_epoch
from quantdesk.signals.lifetime import lifetime_bars, nominal_expiry
from quantdesk.signals.service import signal_service
from tests.support.factories import create_instrument, load_bars
from tests.support.signals import after_close, goog_window


def settings_with(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_the_most_specific_lifetime_wins() -> None:
    settings = settings_with(
        signals_expiry_bars=7,
        signals_lifetime_bars={"1h": 24, "sma_cross": 15, "sma_cross:1d": 20},
    )
    assert lifetime_bars(settings, "sma_cross", Timeframe.D1) == 20
    assert lifetime_bars(settings, "sma_cross", Timeframe.H1) == 15
    assert lifetime_bars(settings, "rsi_reversal", Timeframe.H1) == 24
    assert lifetime_bars(settings, "rsi_reversal", Timeframe.D1) == 7


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"nope": 3}, "neither a strategy"),
        ({"sma_cross:2d": 3}, "unknown timeframe '2d'"),
        ({"bogus:1d": 3}, "unknown strategy 'bogus'"),
        ({"1d": 0}, "at least 1 bar"),
    ],
)
def test_bad_lifetimes_are_refused(value: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError, match="signals_lifetime_bars") as error:
        settings_with(signals_lifetime_bars=value)
    assert message in str(error.value)
    with pytest.raises(ValidationError, match="signals_expiry_bars"):
        settings_with(signals_expiry_bars=0)


def test_nominal_expiry_counts_calendar_months_for_1M() -> None:
    january_2024 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    assert nominal_expiry(january_2024, Timeframe.MN1, 2) == datetime(2024, 4, 1, tzinfo=UTC)
    assert nominal_expiry(january_2024, Timeframe.D1, 10) == from_epoch(january_2024 + 11 * 86_400)


async def test_generated_signals_store_their_lifetime(db: Database, settings: Settings) -> None:
    settings.signals_lifetime_bars = {"composite": 4, "1d": 6}
    window = goog_window()
    await create_instrument(db, "GOOG")
    await load_bars(db, "GOOG", window)
    async with db.session() as session:
        created = await signal_service.generate(session, now=after_close(window), settings=settings)
    assert {s.strategy for s in created} >= {"composite"}
    for signal in created:
        assert signal.lifetime_bars == (4 if signal.strategy == "composite" else 6)
        assert signal.expires_at == nominal_expiry(
            signal.source_ts, Timeframe.D1, signal.lifetime_bars
        )
