"""The public event names (infra/events/catalog.py)."""

from quantdesk.infra.events import Event, MarketEvent, ReplayStatus
from quantdesk.infra.events.catalog import PUBLIC_EVENTS, is_public, public_event_name


def test_market_events_are_named_by_kind() -> None:
    quote = MarketEvent("quote", "GOOG", None, 1, 1.0, 1.0, 1.0, 1.0, 0.0)
    bar = MarketEvent("bar", "GOOG", "1d", 1, 1.0, 1.0, 1.0, 1.0, 0.0)
    assert public_event_name(Event(quote.topic, quote)) == "price_update"
    assert public_event_name(Event(bar.topic, bar)) == "bar"
    assert is_public(Event(bar.topic, bar))


def test_other_payloads_use_their_type_name_and_internal_ones_are_not_public() -> None:
    status = ReplayStatus(symbol="GOOG", replay_id="r", state="started", timeframe="1d", start_ts=0)
    event = Event("market.replay.GOOG", status)
    assert public_event_name(event) == "replay"
    assert not is_public(event)
    assert len(set(PUBLIC_EVENTS)) == len(PUBLIC_EVENTS)
