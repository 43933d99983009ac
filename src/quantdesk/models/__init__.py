"""SQLAlchemy models, one module per table family. Importing this package registers them all
on `Base.metadata` (Alembic autogenerate and `alembic check` rely on that)."""

from quantdesk.models.audit import AuditEvent
from quantdesk.models.auth import ApiKey, AuthSession, PasswordResetToken, RefreshToken, User
from quantdesk.models.base import Base, UTCDateTime, utcnow
from quantdesk.models.marketdata import AssetClass, Bar, Instrument, Quote

__all__ = [
    "ApiKey",
    "AssetClass",
    "AuditEvent",
    "AuthSession",
    "Bar",
    "Base",
    "Instrument",
    "PasswordResetToken",
    "Quote",
    "RefreshToken",
    "UTCDateTime",
    "User",
    "utcnow",
]
