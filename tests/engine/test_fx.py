"""FX arithmetic: pairs published either way or crossed through one currency, buy/sell sides
swapped on inversion, spreads and differences in basis points."""

from __future__ import annotations

import pytest

from quantdesk.engine.fx import buy_sell, derive, diff_bps, dispersion_bps, spread_bps

ECB = {("EUR", "USD"): 1.1172, ("EUR", "JPY"): 175.68, ("EUR", "GBP"): 0.8338}
BAM = {("EUR", "MAD"): 10.8813, ("USD", "MAD"): 9.74, ("JPY", "MAD"): 0.063528}


def test_a_published_pair_is_used_as_is_or_inverted() -> None:
    found = derive(ECB, "EUR", "USD")
    assert found is not None and found.rate == 1.1172 and found.route == "direct"
    inverted = derive(ECB, "USD", "EUR")
    assert inverted is not None and inverted.legs[0].inverted
    assert inverted.rate == pytest.approx(1 / 1.1172)


def test_a_missing_pair_is_crossed_through_eur_first() -> None:
    found = derive(ECB, "USD", "JPY")
    assert found is not None and found.route == "via EUR"
    assert found.rate == pytest.approx(175.68 / 1.1172)
    assert [(leg.base, leg.quote, leg.inverted) for leg in found.legs] == [
        ("USD", "EUR", True),
        ("EUR", "JPY", False),
    ]
    # BAM quotes everything against MAD: the cross goes through MAD.
    implied = derive(BAM, "EUR", "USD")
    assert implied is not None and implied.route == "via MAD"
    assert implied.rate == pytest.approx(10.8813 / 9.74)
    assert derive(ECB, "USD", "MAD") is None
    assert derive(ECB, "USD", "USD") is not None


def test_buy_and_sell_swap_sides_when_inverted_and_are_never_crossed() -> None:
    buys, sells = {("USD", "MAD"): 8.9621}, {("USD", "MAD"): 10.1094}
    assert buy_sell(buys, sells, "USD", "MAD") == (8.9621, 10.1094)
    buy, sell = buy_sell(buys, sells, "MAD", "USD")
    # The bank sells USD at 10.1094 MAD: it buys one MAD for 1/10.1094 USD.
    assert buy == pytest.approx(1 / 10.1094) and sell == pytest.approx(1 / 8.9621)
    assert buy_sell(buys, sells, "EUR", "USD") == (None, None)


def test_basis_points() -> None:
    # (10.1094 - 8.9621) / 9.53575 * 10,000
    assert spread_bps(8.9621, 10.1094) == pytest.approx(1203.16, abs=0.01)
    assert spread_bps(None, 10.1094) is None
    assert diff_bps(1.11725, 1.1172) == pytest.approx(0.45, abs=0.01)
    assert dispersion_bps([9.74, 9.75]) == pytest.approx(10.26, abs=0.01)
    assert dispersion_bps([9.74]) is None
