"""Shared market data for the engine tests: a seeded random walk and real GOOG bars."""

from __future__ import annotations

import pytest

from tests.support.ohlcv import OHLCV, goog_ohlcv, random_ohlcv


@pytest.fixture(scope="session")
def datasets() -> dict[str, OHLCV]:
    return {"random": random_ohlcv(3000, seed=20240611), "goog": goog_ohlcv()}
