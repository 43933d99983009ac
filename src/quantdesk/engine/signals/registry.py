"""The strategy registry: every strategy the signal job runs, by name, with its defaults."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from quantdesk.engine.signals.base import SignalStrategy
from quantdesk.engine.signals.composite import Composite
from quantdesk.engine.signals.strategies import (
    BollingerBreakout,
    BollingerReversion,
    MacdCross,
    MaCross,
    RsiReversal,
)

_DEFAULTS: tuple[SignalStrategy, ...] = (
    RsiReversal(),
    MacdCross(),
    BollingerBreakout(),
    BollingerReversion(),
    MaCross(20, 50, "sma"),
    MaCross(9, 21, "ema"),
    Composite(),
)

#: Name -> strategy with its default parameters, in the order the job runs them.
STRATEGIES: Mapping[str, SignalStrategy] = MappingProxyType({s.name: s for s in _DEFAULTS})


def get_strategy(name: str) -> SignalStrategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        known = ", ".join(STRATEGIES)
        raise ValueError(f"unknown strategy {name!r}; known: {known}") from None
