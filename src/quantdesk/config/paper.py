"""Paper-trading desk settings (quantdesk.portfolio), mixed into `Settings`.

Fill-model defaults per asset class; an account's `fill_model` overrides any of them. Money
figures are decimal strings so that `QUANTDESK_PAPER_EQUITY_FEE_MIN=1.00` stays exact.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field


class PaperSettings(BaseModel):
    # Basis points of the fill price, against the order (buys pay more, sells get less).
    paper_equity_slippage_bps: Decimal = Field(default=Decimal("5"), ge=0, le=1000)
    paper_crypto_slippage_bps: Decimal = Field(default=Decimal("10"), ge=0, le=1000)
    paper_fx_slippage_bps: Decimal = Field(default=Decimal("1"), ge=0, le=1000)
    # Fee per fill: max(fee_min, notional x fee_bps / 10,000), in the account's currency.
    paper_equity_fee_bps: Decimal = Field(default=Decimal("0"), ge=0, le=1000)
    paper_crypto_fee_bps: Decimal = Field(default=Decimal("10"), ge=0, le=1000)
    paper_fx_fee_bps: Decimal = Field(default=Decimal("0"), ge=0, le=1000)
    paper_equity_fee_min: Decimal = Field(default=Decimal("0"), ge=0)
    paper_crypto_fee_min: Decimal = Field(default=Decimal("0"), ge=0)
    paper_fx_fee_min: Decimal = Field(default=Decimal("0"), ge=0)
    # At most this share of a bar's volume fills for one account's orders on that bar; the rest
    # waits for later bars. Bars without volume (FX, quotes) are not capped.
    paper_max_participation: Decimal | None = Field(default=Decimal("0.10"), gt=0, le=1)
    # Run the desk (consume market events, fill orders, evaluate price alerts) in this process.
    paper_desk_enabled: bool = True
