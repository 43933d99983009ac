"""An account's fill model for one asset class (docs/paper-trading.md, "Accounts").

Defaults come from settings (`QUANTDESK_PAPER_*`) per asset-class family:

| AssetClass                 | family  | qty decimals |
|----------------------------|---------|--------------|
| equity, fund, index        | equity  | 4            |
| crypto                     | crypto  | 8            |
| fx                         | fx      | 2            |

An account's `fill_model` JSON (`{slippage_bps, fee_bps, fee_min, max_participation}`, every
field optional, stored as decimal strings; `max_participation: null` = no volume cap)
overrides those defaults field by field, for every asset class alike.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from quantdesk.models.marketdata import AssetClass

if TYPE_CHECKING:
    from quantdesk.config import Settings
    from quantdesk.engine.fills import FillModel
    from quantdesk.models.portfolio import PaperAccount

FILL_MODEL_FIELDS = ("slippage_bps", "fee_bps", "fee_min", "max_participation")


class Family(StrEnum):
    EQUITY = "equity"
    CRYPTO = "crypto"
    FX = "fx"


_FAMILY: dict[AssetClass, Family] = {
    AssetClass.EQUITY: Family.EQUITY,
    AssetClass.FUND: Family.EQUITY,
    AssetClass.INDEX: Family.EQUITY,
    AssetClass.CRYPTO: Family.CRYPTO,
    AssetClass.FX: Family.FX,
}
_QTY_DECIMALS: dict[Family, int] = {Family.EQUITY: 4, Family.CRYPTO: 8, Family.FX: 2}


def family(asset_class: AssetClass) -> Family:
    """The defaults family of `asset_class` (anything unknown trades like an equity)."""
    return _FAMILY.get(asset_class, Family.EQUITY)


def qty_decimals(asset_class: AssetClass) -> int:
    """How many decimals an order quantity may have: equity-like 4, crypto 8, fx 2."""
    return _QTY_DECIMALS[family(asset_class)]


def default_fields(asset_class: AssetClass, settings: Settings) -> dict[str, Decimal | None]:
    """The settings' fill-model figures for `asset_class`, before any account override."""
    name = family(asset_class).value
    return {
        "slippage_bps": getattr(settings, f"paper_{name}_slippage_bps"),
        "fee_bps": getattr(settings, f"paper_{name}_fee_bps"),
        "fee_min": getattr(settings, f"paper_{name}_fee_min"),
        "max_participation": settings.paper_max_participation,
    }


def overrides(stored: dict[str, Any] | None) -> dict[str, Decimal | None]:
    """An account's stored `fill_model` JSON as Decimals (only the fields it sets)."""
    found: dict[str, Decimal | None] = {}
    for field in FILL_MODEL_FIELDS:
        value = None if stored is None else stored.get(field)
        if value is not None:
            found[field] = Decimal(str(value))
        elif field == "max_participation" and stored is not None and field in stored:
            found[field] = None  # an explicit null: no volume cap
    return found


def fill_model_for(account: PaperAccount, asset_class: AssetClass, settings: Settings) -> FillModel:
    """The FillModel `account`'s orders of `asset_class` fill with."""
    from quantdesk.engine.fills import FillModel

    fields = default_fields(asset_class, settings) | overrides(account.fill_model)
    slippage, fee, fee_min = fields["slippage_bps"], fields["fee_bps"], fields["fee_min"]
    if slippage is None or fee is None or fee_min is None:  # settings never leave them unset
        raise ValueError("slippage_bps, fee_bps and fee_min need a value")
    return FillModel(
        slippage_bps=slippage,
        fee_bps=fee,
        fee_min=fee_min,
        max_participation=fields["max_participation"],
        qty_decimals=qty_decimals(asset_class),
    )
