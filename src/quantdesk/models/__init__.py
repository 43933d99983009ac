"""SQLAlchemy models, one module per table family. Importing this package registers them all
on `Base.metadata` (Alembic autogenerate and `alembic check` rely on that)."""

from quantdesk.models.alerts import AlertEvent, AlertLevel
from quantdesk.models.audit import AuditEvent
from quantdesk.models.auth import ApiKey, AuthSession, PasswordResetToken, RefreshToken, User
from quantdesk.models.backtests import BacktestKind, BacktestRun, BacktestStatus
from quantdesk.models.base import Base, UTCDateTime, str_enum, utcnow
from quantdesk.models.marketdata import AssetClass, Bar, Instrument, Quote
from quantdesk.models.pipeline import (
    FetchStatus,
    JobRun,
    JobStatus,
    ProviderFetch,
    QuarantinedRow,
)
from quantdesk.models.reference import FundamentalsSnapshot, FxRate, SeriesKind, SeriesObservation
from quantdesk.models.signals import Signal, SignalDirection, SignalStatus

__all__ = [
    "AlertEvent",
    "AlertLevel",
    "ApiKey",
    "AssetClass",
    "AuditEvent",
    "AuthSession",
    "BacktestKind",
    "BacktestRun",
    "BacktestStatus",
    "Bar",
    "Base",
    "FetchStatus",
    "FundamentalsSnapshot",
    "FxRate",
    "Instrument",
    "JobRun",
    "JobStatus",
    "PasswordResetToken",
    "ProviderFetch",
    "QuarantinedRow",
    "Quote",
    "RefreshToken",
    "SeriesKind",
    "SeriesObservation",
    "Signal",
    "SignalDirection",
    "SignalStatus",
    "UTCDateTime",
    "User",
    "str_enum",
    "utcnow",
]
