"""Export requests (one body model per kind, a union discriminated by `kind`) and answers.

The union is validated `kind` first (`_kind_first`): a missing or unknown kind is a 422 at
`body.kind` listing the kinds, and the other errors are located at their own field
(`body.params.symbol`), not under the union's tag (`body.bars.params.symbol`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from quantdesk.kit.schemas import Instant, RequestModel
from quantdesk.kit.symbols import SYMBOL_PATTERN
from quantdesk.kit.timeframes import Timeframe
from quantdesk.models import ExportStatus, SignalStatus


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    XLSX = "xlsx"
    JSON = "json"  # JSON Lines: one object per line


class ExportKind(StrEnum):
    BARS = "bars"
    SIGNALS = "signals"
    BACKTEST_TRADES = "backtest_trades"
    ORDERS = "orders"
    LEDGER = "ledger"
    AUDIT = "audit"


class _Range(RequestModel):
    start: Instant | None = Field(default=None, description="From this time (inclusive)")
    end: Instant | None = Field(default=None, description="Up to this time (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> _Range:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class BarsParams(_Range):
    symbol: str = Field(pattern=SYMBOL_PATTERN, description="One stored instrument")
    timeframe: Timeframe = Timeframe.D1


class SignalsParams(_Range):
    symbol: str | None = Field(default=None, pattern=SYMBOL_PATTERN)
    strategy: str | None = Field(default=None, min_length=1, max_length=64)
    status: SignalStatus | None = None


class BacktestTradesParams(RequestModel):
    run_id: str = Field(min_length=1, max_length=64, description="One of your backtest runs")


class OrdersParams(_Range):
    account_id: str = Field(min_length=1, max_length=64, description="One of your accounts")


class LedgerParams(_Range):
    account_id: str = Field(min_length=1, max_length=64, description="One of your accounts")


class AuditParams(_Range):
    action: str | None = Field(default=None, min_length=1, max_length=64)


class _Create(RequestModel):
    format: ExportFormat


class BarsExport(_Create):
    kind: Literal["bars"]
    params: BarsParams


class SignalsExport(_Create):
    kind: Literal["signals"]
    params: SignalsParams = Field(default_factory=SignalsParams)


class BacktestTradesExport(_Create):
    kind: Literal["backtest_trades"]
    params: BacktestTradesParams


class OrdersExport(_Create):
    kind: Literal["orders"]
    params: OrdersParams


class LedgerExport(_Create):
    kind: Literal["ledger"]
    params: LedgerParams


class AuditExport(_Create):
    kind: Literal["audit"]
    params: AuditParams = Field(default_factory=AuditParams)


class _Kind(BaseModel):
    kind: ExportKind


_MODELS: dict[ExportKind, type[_Create]] = {
    ExportKind.BARS: BarsExport,
    ExportKind.SIGNALS: SignalsExport,
    ExportKind.BACKTEST_TRADES: BacktestTradesExport,
    ExportKind.ORDERS: OrdersExport,
    ExportKind.LEDGER: LedgerExport,
    ExportKind.AUDIT: AuditExport,
}


_KINDS = (
    ", ".join(repr(kind.value) for kind in list(ExportKind)[:-1])
    + f" or {ExportKind.AUDIT.value!r}"
)


def _kind_first(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """`kind` checked on its own first (its errors raise located at `kind`), then the body
    validated by that kind's model, so errors are located at the field and not under the tag."""
    if not isinstance(value, dict):
        return handler(value)  # not an object: the union says so, at `body`
    if "kind" not in value:
        missing = PydanticCustomError(
            "missing", "Field required: one of {kinds}", {"kinds": _KINDS}
        )
        raise ValidationError.from_exception_data(
            "ExportCreate", [{"type": missing, "loc": ("kind",), "input": value}]
        )
    kind = _Kind.model_validate({"kind": value["kind"]}).kind
    return _MODELS[kind].model_validate(value)


ExportCreate = Annotated[
    Annotated[
        BarsExport
        | SignalsExport
        | BacktestTradesExport
        | OrdersExport
        | LedgerExport
        | AuditExport,
        Discriminator("kind"),
    ],
    WrapValidator(_kind_first),
]
ExportParams = (
    BarsParams | SignalsParams | BacktestTradesParams | OrdersParams | LedgerParams | AuditParams
)
PARAMS_BY_KIND: dict[ExportKind, type[RequestModel]] = {
    ExportKind.BARS: BarsParams,
    ExportKind.SIGNALS: SignalsParams,
    ExportKind.BACKTEST_TRADES: BacktestTradesParams,
    ExportKind.ORDERS: OrdersParams,
    ExportKind.LEDGER: LedgerParams,
    ExportKind.AUDIT: AuditParams,
}


class ColumnInfo(BaseModel):
    name: str
    type: str


class Manifest(BaseModel):
    rows: int = Field(description="Data rows in the file: exactly the query's row count")
    bytes: int
    sha256: str
    columns: list[ColumnInfo]
    as_of: datetime = Field(description="The data as it stood at this time (UTC)")


class ExportAccepted(BaseModel):
    id: str
    status: ExportStatus


class ExportRead(BaseModel):
    id: str
    kind: ExportKind
    format: ExportFormat
    params: dict[str, object]
    status: ExportStatus
    progress: float
    manifest: Manifest | None = None
    download_url: str | None = Field(
        default=None, description="A fresh signed link once completed (GET it, no credentials)"
    )
    download_expires_at: datetime | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
