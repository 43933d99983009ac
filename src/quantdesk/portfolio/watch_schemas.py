"""Request and response shapes of /watchlists and /alerts (price alerts).

Symbols are normalized (upper case, `kit.symbols` pattern) by the models; whether a symbol is a
known instrument is checked by the services (a 422 naming the field). Levels and prices are
decimal strings (`portfolio.money`), never floats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from quantdesk.kit.schemas import Instant, RequestModel
from quantdesk.kit.symbols import SYMBOL_PATTERN, normalize_symbol
from quantdesk.models.watch import AlertCondition, AlertFrequency, PriceAlertStatus
from quantdesk.portfolio.money import Money, PositiveDecimal

MAX_WATCHLISTS_PER_USER = 50
MAX_SYMBOLS_PER_WATCHLIST = 200
MAX_ACTIVE_ALERTS_PER_USER = 200
NOTE_MAX = 500


def _symbol(value: object) -> object:
    return normalize_symbol(value) if isinstance(value, str) else value


def _name(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Symbol = Annotated[str, BeforeValidator(_symbol), Field(pattern=SYMBOL_PATTERN, examples=["GOOG"])]
Note = Annotated[str | None, Field(max_length=NOTE_MAX)]
Name = Annotated[str, BeforeValidator(_name), Field(min_length=1, max_length=100)]


class WatchlistSymbolIn(RequestModel):
    symbol: Symbol
    note: Note = None


def _symbol_entry(value: object) -> object:
    # A bare string is shorthand for {"symbol": value}.
    return {"symbol": value} if isinstance(value, str) else value


def _no_duplicates(items: list[WatchlistSymbolIn]) -> list[WatchlistSymbolIn]:
    seen: set[str] = set()
    for item in items:
        if item.symbol in seen:
            raise ValueError(f"{item.symbol} is listed twice")
        seen.add(item.symbol)
    return items


SymbolEntries = Annotated[
    list[Annotated[WatchlistSymbolIn, BeforeValidator(_symbol_entry)]],
    Field(
        max_length=MAX_SYMBOLS_PER_WATCHLIST,
        description='Objects {"symbol", "note"} or bare symbols ("GOOG")',
    ),
    AfterValidator(_no_duplicates),
]


class WatchlistCreate(RequestModel):
    name: Name
    symbols: SymbolEntries = []


class WatchlistUpdate(RequestModel):
    """Rename, and/or replace the whole symbol list (notes included)."""

    name: Name | None = None
    symbols: SymbolEntries | None = None

    @model_validator(mode="after")
    def _something(self) -> WatchlistUpdate:
        if self.name is None and self.symbols is None:
            raise ValueError("give `name`, `symbols` or both")
        return self


class WatchlistItemRead(BaseModel):
    symbol: str
    note: str | None
    added_at: datetime
    price: Money | None = Field(description="The latest stored quote's price; null if none")
    price_as_of: datetime | None = None


class WatchlistRead(BaseModel):
    id: str
    name: str
    items: list[WatchlistItemRead]
    created_at: datetime
    updated_at: datetime


class WatchlistSummary(BaseModel):
    """A list entry: the symbols without notes or prices (GET /watchlists/{id} has those)."""

    id: str
    name: str
    symbols: list[str]
    created_at: datetime
    updated_at: datetime


class PriceAlertCreate(RequestModel):
    symbol: Symbol
    condition: AlertCondition = Field(
        description="above: price >= level; below: price <= level; crossing_up: previous "
        "price < level <= price; crossing_down: previous price > level >= price"
    )
    level: PositiveDecimal
    frequency: AlertFrequency = Field(
        default=AlertFrequency.ONCE,
        description="once: fires once, then `triggered`; every_bar: on every market event "
        "where the condition holds (crossings: on every crossing)",
    )
    expires_at: Instant | None = Field(
        default=None, description="Compared with market time (a replay's time during a replay)"
    )
    note: Note = None


class PriceAlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    symbol: str
    condition: AlertCondition
    level: Money
    frequency: AlertFrequency
    status: PriceAlertStatus
    note: str | None
    last_price: Money | None = Field(description="The price of the last market event evaluated")
    expires_at: datetime | None
    trigger_count: int
    last_triggered_at: datetime | None = Field(description="Market time of the last firing")
    created_at: datetime


class PriceAlertTriggerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: str
    symbol: str
    condition: AlertCondition
    level: Money
    price: Money
    bar_ts: int = Field(description="Market time of the event that fired it (Unix seconds)")
    triggered_at: datetime = Field(description="When it was recorded (wall clock)")
