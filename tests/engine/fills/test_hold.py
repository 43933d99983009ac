"""The cash an open buy order holds (issue 12, buying power)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quantdesk.engine.fills import FillModel, estimate_hold

D = Decimal
PLAIN = FillModel(D(0), D(0), D(0), None)


@pytest.mark.parametrize(
    ("side", "type", "qty", "limit", "stop", "last", "model", "hold"),
    [
        ("sell", "market", "10", None, None, "100", PLAIN, "0"),
        ("sell", "limit", "10", "100", None, None, PLAIN, "0"),
        ("buy", "limit", "10", "100", None, "120", FillModel(D(5), D(10), D(1), None), "1001"),
        ("buy", "limit", "1", "100", None, None, FillModel(D(0), D(10), D(5), None), "105"),
        ("buy", "market", "10", None, None, "100", FillModel(D(5), D(0), D(0), None), "1000.5"),
        ("buy", "stop", "10", None, "105", "100", FillModel(D(10), D(0), D(0), None), "1051.05"),
        ("buy", "stop", "10", None, "95", "100", FillModel(D(10), D(0), D(0), None), "1001"),
        ("buy", "stop", "10", None, "105", None, PLAIN, "1050"),
        ("buy", "stop_limit", "10", "101", "100", "90", FillModel(D(50), D(0), D(0), None),
         "1010"),
        ("buy", "limit", "3", "0.333333333", None, None, PLAIN, "1.00000000"),  # rounded up
    ],
)  # fmt: skip
def test_estimate_hold(
    side: str,
    type: str,
    qty: str,
    limit: str | None,
    stop: str | None,
    last: str | None,
    model: FillModel,
    hold: str,
) -> None:
    def dec(value: str | None) -> Decimal | None:
        return None if value is None else D(value)

    got = estimate_hold(side, type, D(qty), dec(limit), dec(stop), dec(last), model)  # type: ignore[arg-type]
    assert got == D(hold)


def test_market_hold_needs_a_last_price() -> None:
    with pytest.raises(ValueError, match="last price"):
        estimate_hold("buy", "market", D(1), None, None, None, PLAIN)
