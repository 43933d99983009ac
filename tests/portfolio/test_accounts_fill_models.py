"""An account's fill model: settings defaults per asset class, overridden field by field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from quantdesk.engine.fills import FillModel
from quantdesk.models.marketdata import AssetClass
from quantdesk.models.portfolio import PaperAccount
from quantdesk.portfolio.fill_models import fill_model_for, qty_decimals
from tests.support.settings import make_settings

SETTINGS = make_settings("sqlite+aiosqlite:///:memory:")


def account(fill_model: dict[str, Any] | None) -> PaperAccount:
    return PaperAccount(id="a1", user_id=1, name="x", currency="USD", fill_model=fill_model)


@pytest.mark.parametrize(
    ("asset_class", "expected"),
    [
        (AssetClass.EQUITY, FillModel(Decimal(5), Decimal(0), Decimal(0), Decimal("0.10"), 4)),
        (AssetClass.FUND, FillModel(Decimal(5), Decimal(0), Decimal(0), Decimal("0.10"), 4)),
        (AssetClass.INDEX, FillModel(Decimal(5), Decimal(0), Decimal(0), Decimal("0.10"), 4)),
        (AssetClass.CRYPTO, FillModel(Decimal(10), Decimal(10), Decimal(0), Decimal("0.10"), 8)),
        (AssetClass.FX, FillModel(Decimal(1), Decimal(0), Decimal(0), Decimal("0.10"), 2)),
    ],
)
def test_defaults_come_from_settings_per_asset_class(
    asset_class: AssetClass, expected: FillModel
) -> None:
    assert fill_model_for(account(None), asset_class, SETTINGS) == expected


def test_account_overrides_field_by_field() -> None:
    model = fill_model_for(account({"fee_min": "1.00"}), AssetClass.CRYPTO, SETTINGS)
    assert model == FillModel(Decimal(10), Decimal(10), Decimal("1.00"), Decimal("0.10"), 8)


def test_null_participation_removes_the_volume_cap() -> None:
    stored = {"slippage_bps": "0", "fee_bps": "0", "fee_min": "0", "max_participation": None}
    model = fill_model_for(account(stored), AssetClass.EQUITY, SETTINGS)
    assert model == FillModel(Decimal(0), Decimal(0), Decimal(0), None, 4)


def test_settings_change_the_defaults() -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///:memory:", paper_equity_slippage_bps="2", paper_max_participation=None
    )
    model = fill_model_for(account(None), AssetClass.EQUITY, settings)
    assert (model.slippage_bps, model.max_participation) == (Decimal(2), None)


@pytest.mark.parametrize(
    ("asset_class", "decimals"),
    [(AssetClass.EQUITY, 4), (AssetClass.FUND, 4), (AssetClass.CRYPTO, 8), (AssetClass.FX, 2)],
)
def test_qty_decimals(asset_class: AssetClass, decimals: int) -> None:
    assert qty_decimals(asset_class) == decimals
