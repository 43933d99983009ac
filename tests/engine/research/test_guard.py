"""The numeric guard keeps only sentences whose numbers are in the data context."""

from __future__ import annotations

from quantdesk.engine.research.guard import guard, stated_numbers

CONTEXT = {
    "symbol": "GOOG",
    "as_of": "2013-03-01T00:00:00Z",
    "ratios": {"pe": 24.9517, "roe_pct": 16.54},
    "values": {"revenues": 50_175_000_000.0},
    "returns_pct": {"1y": -3.21},
}


def test_supported_numbers_pass_within_half_a_percent() -> None:
    text = (
        "GOOG trades at a P/E of 24.95. Revenue was $50.2 billion. "
        "Over one year it fell 3.2%. ROE stood at 16.5%."
    )
    result = guard(text, CONTEXT)
    assert not result.flagged
    assert len(result.kept) == 4


def test_invented_numbers_drop_their_sentence_and_are_flagged() -> None:
    text = (
        "GOOG trades at a P/E of 24.95. Its ROE is 25.3%. Analysts expect 1,500 by 2014. "
        "It reported data as of 2013."
    )
    result = guard(text, CONTEXT)
    assert result.flagged
    assert result.kept == ("GOOG trades at a P/E of 24.95.", "It reported data as of 2013.")
    assert [d.unsupported for d in result.dropped] == [("25.3%",), ("1,500", "2014")]
    assert "25.3" not in result.text


def test_just_outside_the_tolerance_is_dropped() -> None:
    assert guard("P/E 25.1.", CONTEXT).flagged  # 0.6 % from 24.95
    assert not guard("P/E 25.07.", CONTEXT).flagged  # 0.47 %


def test_numbers_inside_identifiers_are_not_numbers() -> None:
    assert [s.written for s in stated_numbers("RSI14 and H1 bars, MACD(12,26,9)")] == [
        "12",
        "26",
        "9",
    ]
