"""SQLAlchemy models, one module per table family. Importing this package registers them all
on `Base.metadata` (Alembic autogenerate and `alembic check` rely on that)."""

from quantdesk.models.alerts import AlertEvent, AlertLevel
from quantdesk.models.audit import AuditEvent
from quantdesk.models.auth import ApiKey, AuthSession, PasswordResetToken, RefreshToken, User
from quantdesk.models.backtests import (
    BacktestKind,
    BacktestRun,
    BacktestStatus,
    BacktestSweepChunk,
)
from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow
from quantdesk.models.exports import Export, ExportStatus
from quantdesk.models.market import DERIVED_RELATIONS, MarketRefresh, MarketSnapshot
from quantdesk.models.marketdata import AssetClass, Bar, Instrument, Quote
from quantdesk.models.news import NewsArticle, NewsArticleSymbol
from quantdesk.models.pipeline import (
    FetchStatus,
    JobRun,
    JobStatus,
    ProviderFetch,
    QuarantinedRow,
)
from quantdesk.models.portfolio import (
    AccountStatus,
    ClockMode,
    EntryKind,
    EntryStatus,
    EquityPoint,
    Fixed8,
    LedgerEntry,
    LedgerLeg,
    MarketClock,
    OrderSide,
    OrderStatus,
    OrderType,
    PaperAccount,
    PaperFill,
    PaperOrder,
    PaperPosition,
    PositionLot,
    TimeInForce,
)
from quantdesk.models.reference import (
    FundamentalsSnapshot,
    FxRate,
    FxRateKind,
    SeriesKind,
    SeriesObservation,
)
from quantdesk.models.sentiment import SentimentVote, VoteKind
from quantdesk.models.signals import Signal, SignalDirection, SignalStatus
from quantdesk.models.watch import (
    AlertCondition,
    AlertFrequency,
    PriceAlert,
    PriceAlertStatus,
    PriceAlertTrigger,
    Watchlist,
    WatchlistItem,
)
from quantdesk.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookStatus,
)

__all__ = [
    "DERIVED_RELATIONS",
    "AccountStatus",
    "AlertCondition",
    "AlertEvent",
    "AlertFrequency",
    "AlertLevel",
    "ApiKey",
    "AssetClass",
    "AuditEvent",
    "AuthSession",
    "BacktestKind",
    "BacktestRun",
    "BacktestStatus",
    "BacktestSweepChunk",
    "Bar",
    "Base",
    "ClockMode",
    "DeliveryStatus",
    "EntryKind",
    "EntryStatus",
    "EquityPoint",
    "Export",
    "ExportStatus",
    "FetchStatus",
    "Fixed8",
    "FundamentalsSnapshot",
    "FxRate",
    "FxRateKind",
    "Instrument",
    "JobRun",
    "JobStatus",
    "LedgerEntry",
    "LedgerLeg",
    "MarketClock",
    "MarketRefresh",
    "MarketSnapshot",
    "NewsArticle",
    "NewsArticleSymbol",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "PaperAccount",
    "PaperFill",
    "PaperOrder",
    "PaperPosition",
    "PasswordResetToken",
    "PositionLot",
    "PriceAlert",
    "PriceAlertStatus",
    "PriceAlertTrigger",
    "ProviderFetch",
    "QuarantinedRow",
    "Quote",
    "RefreshToken",
    "SentimentVote",
    "SeriesKind",
    "SeriesObservation",
    "Signal",
    "SignalDirection",
    "SignalStatus",
    "TimeInForce",
    "UTCDateTime",
    "User",
    "VoteKind",
    "Watchlist",
    "WatchlistItem",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookStatus",
    "str_enum",
    "utcnow",
]
