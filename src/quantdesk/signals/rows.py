"""The stored form of a computed signal: one row for `SignalRepository.insert_new`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quantdesk.engine.signals import STRATEGIES, Direction, RiskModel, SignalResult
from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import SignalDirection, SignalStatus
from quantdesk.signals.lifetime import nominal_expiry

RISK = RiskModel()


def signal_row(
    *,
    instrument_id: int,
    symbol: str,
    timeframe: Timeframe,
    result: SignalResult,
    source_ts: int,
    created_at: datetime,
    lifetime: int,
) -> dict[str, Any]:
    """An active signal's columns; settle it with `Settlement.columns()`."""
    strategy = STRATEGIES[result.strategy]
    return {
        "instrument_id": instrument_id,
        "symbol": symbol,
        "timeframe": timeframe.value,
        "strategy": result.strategy,
        "params": {
            "strategy": strategy.params(),
            "risk": RISK.params(),
            "confidence_parts": {
                "agreement": round(result.agreement, 4),
                "strength": round(result.strength, 4),
                "volatility": round(result.volatility, 4),
            },
        },
        "direction": SignalDirection.LONG
        if result.direction is Direction.LONG
        else SignalDirection.SHORT,
        "entry": result.entry,
        "target": result.target,
        "stop": result.stop,
        "confidence": result.confidence,
        "rationale": [condition.as_dict() for condition in result.rationale],
        "status": SignalStatus.ACTIVE,
        "source_ts": source_ts,
        "created_at": created_at,
        "expires_at": nominal_expiry(source_ts, timeframe, lifetime),
        "lifetime_bars": lifetime,
        "closed_at": None,
        "close_price": None,
        "bars_held": None,
        "settled_return": None,
    }
