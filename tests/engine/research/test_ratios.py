"""Ratios from statements: each formula on hand-checked figures, missing inputs named."""

from __future__ import annotations

import pytest

from quantdesk.engine.research.ratios import compute_ratios

LATEST = {
    "revenues": 1_000.0,
    "cost_of_revenue": 400.0,
    "operating_income_loss": 250.0,
    "net_income_loss": 200.0,
    "diluted_earnings_per_share": 2.0,
    "equity_attributable_to_parent": 1_200.0,
    "short_term_debt": 50.0,
    "long_term_debt": 150.0,
    "cash_and_short_term_investments": 300.0,
    "depreciation_and_amortization": 50.0,
    "shares_outstanding": 100.0,
}
PREVIOUS = {"revenues": 800.0, "net_income_loss": 160.0, "equity_attributable_to_parent": 800.0}


def test_every_ratio_from_its_formula() -> None:
    ratios = {r.name: r.value for r in compute_ratios(LATEST, PREVIOUS, price=30.0)}
    assert ratios["gross_margin_pct"] == pytest.approx(60.0)  # (1000 - 400) / 1000
    assert ratios["operating_margin_pct"] == pytest.approx(25.0)
    assert ratios["net_margin_pct"] == pytest.approx(20.0)
    assert ratios["revenue_growth_pct"] == pytest.approx(25.0)  # 1000 / 800 - 1
    assert ratios["net_income_growth_pct"] == pytest.approx(25.0)
    assert ratios["roe_pct"] == pytest.approx(20.0)  # 200 / mean(1200, 800)
    assert ratios["debt_to_equity"] == pytest.approx(200.0 / 1_200.0)
    assert ratios["pe"] == pytest.approx(15.0)  # 30 / 2
    assert ratios["market_cap"] == pytest.approx(3_000.0)
    assert ratios["pb"] == pytest.approx(2.5)  # 3000 / 1200
    assert ratios["ev_ebitda"] == pytest.approx((3_000 + 200 - 300) / 300.0)


def test_missing_inputs_are_named_and_meaningless_ratios_are_none() -> None:
    ratios = {r.name: r for r in compute_ratios({"revenues": 10.0, "net_income_loss": -5.0})}
    assert ratios["pe"].value is None and "price" in ratios["pe"].missing
    assert ratios["revenue_growth_pct"].missing == ("previous revenues",)
    assert ratios["net_margin_pct"].value == pytest.approx(-50.0)
    loss = {
        r.name: r.value for r in compute_ratios({"diluted_earnings_per_share": -1.0}, None, 9.0)
    }
    assert loss["pe"] is None  # no P/E of a loss


def test_aliases_are_accepted() -> None:
    ratios = {r.name: r.value for r in compute_ratios({"revenue": 4.0, "net_income": 1.0})}
    assert ratios["net_margin_pct"] == pytest.approx(25.0)
