"""Paper account API schemas: strict requests (money as decimal strings, unknown fields 422)
and the account, activity and ledger-verify documents."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from quantdesk.kit.schemas import RequestModel
from quantdesk.models.portfolio import AccountStatus, EntryKind, EntryStatus
from quantdesk.portfolio.money import Money, NonNegativeDecimal, PositiveDecimal

# ISO 4217 codes an account may hold. An account trades instruments quoted in its own
# currency (the desk converts nothing), so these are the currencies instruments are quoted in
# by the bundled providers and the usual majors.
SUPPORTED_CURRENCIES = frozenset(
    {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD", "SEK", "NOK", "DKK"}
)
MAX_BPS = Decimal(1000)

Bps = Annotated[NonNegativeDecimal, Field(le=MAX_BPS, description="Basis points, 0 .. 1000")]


class FillModelIn(RequestModel):
    """Overrides of the settings' per-asset-class fill model; omitted fields keep the
    defaults. `max_participation: null` removes the volume cap."""

    slippage_bps: Bps | None = None
    fee_bps: Bps | None = None
    fee_min: NonNegativeDecimal | None = None
    max_participation: Annotated[PositiveDecimal, Field(le=1)] | None = None

    @field_validator("slippage_bps", "fee_bps", "fee_min")
    @classmethod
    def _not_null(cls, value: Decimal | None) -> Decimal | None:
        if value is None:
            raise ValueError(
                "omit the field to keep the default; null is only for max_participation"
            )
        return value

    def stored(self) -> dict[str, str | None]:
        """The fields the client set, as the account stores them (decimal strings)."""
        return {
            name: None if (value := getattr(self, name)) is None else format(value, "f")
            for name in self.model_fields_set
        }


class AccountCreate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    currency: Annotated[
        str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, uppercase", examples=["USD"])
    ] = "USD"
    starting_cash: NonNegativeDecimal = Decimal(0)
    allow_short: bool = False
    fill_model: FillModelIn | None = None

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("currency")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in SUPPORTED_CURRENCIES:
            raise ValueError(
                f"unsupported currency; one of {', '.join(sorted(SUPPORTED_CURRENCIES))}"
            )
        return value


class MoneyMove(RequestModel):
    """A deposit or a withdrawal."""

    amount: PositiveDecimal
    memo: Annotated[str, Field(max_length=200)] | None = None


class AccountRead(BaseModel):
    """`cash` is the total cash (`free` + `held`); `held` is reserved for open buy orders;
    `equity` = cash + Σ position qty x last price."""

    id: str
    name: str
    currency: str
    cash: Money
    held: Money
    free: Money
    equity: Money
    allow_short: bool
    fill_model: dict[str, str | None] = Field(
        description="The account's own overrides of the settings' fill model"
    )
    status: AccountStatus
    created_at: datetime
    closed_at: datetime | None = None


class LegRead(BaseModel):
    book: str
    currency: str
    amount: Money


class EntryRead(BaseModel):
    id: int
    kind: EntryKind
    status: EntryStatus
    order_id: str | None
    fill_id: str | None
    memo: str | None
    market_ts: int | None
    created_at: datetime
    legs: list[LegRead]
