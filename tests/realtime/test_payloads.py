"""The new payloads survive the wire format (Redis) both ways, so a replica or a worker's
events decode in every process."""

from __future__ import annotations

import pytest

from quantdesk.backtest.events import BacktestCompleted
from quantdesk.infra.events import Event
from quantdesk.infra.events.catalog import public_event_name
from quantdesk.jobs.events import JobFailed
from quantdesk.signals.events import NewSignal, SignalClosed

PAYLOADS: list[NewSignal | SignalClosed | BacktestCompleted | JobFailed] = [
    NewSignal(1, "BRK.B", "1d", "sma_cross", "long", 100.0, 110.0, 95.0, 0.7, 5, "2026-01-01Z"),
    SignalClosed(1, "GOOG", "1d", "sma_cross", "target_hit", 110.0, 0.1, "2026-01-02T00:00:00Z"),
    SignalClosed(2, "GOOG", "1d", "rsi_reversal", "expired", None, None, None),
    BacktestCompleted(7, "b1", "sweep", "GOOG", "failed", "no bars"),
    JobFailed("t1", "marketdata.fetch_bars", None, "2026-01-01T00:00:00Z"),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_round_trip(payload: NewSignal | SignalClosed | BacktestCompleted | JobFailed) -> None:
    event = Event(payload.topic, payload)
    assert Event.from_json(event.to_json()) == event
    assert public_event_name(event) == payload.type_name


def test_a_malformed_payload_is_refused() -> None:
    raw = Event("signals.GOOG", PAYLOADS[0]).to_json().replace(b'"signal_id":1,', b"")
    with pytest.raises(ValueError, match="signal_id"):
        Event.from_json(raw)
