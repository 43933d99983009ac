"""A database that cannot be reached is an outage (503), not a bug (500).

PostgreSQL stopped, restarting or in crash recovery shows up as a refused connection (an
OSError raised from the pool's connect), a connection dropped under a query (SQLAlchemy marks
it `connection_invalidated`), or a server refusal with a connection SQLSTATE (class 08, or
57P01-57P03: shut down, crashed, starting up). The edge answers those 503 problem+json with
Retry-After; `pool_pre_ping` replaces the dead connections once the server is back.
"""

from __future__ import annotations

import errno
from types import TracebackType

from sqlalchemy.exc import DBAPIError

UNAVAILABLE_DETAIL = "The database cannot be reached right now; retry shortly."
_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})
_CONNECT_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT}
)
_DATABASE_MODULES = ("sqlalchemy", "asyncpg")
_MAX_CHAIN = 16


def _through_database(traceback: TracebackType | None) -> bool:
    """The exception passed through the database driver or SQLAlchemy (not an HTTP client)."""
    while traceback is not None:
        module = traceback.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DATABASE_MODULES):
            return True
        traceback = traceback.tb_next
    return False


def _connection_failure(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _SHUTDOWN_STATES):
        return True
    if type(error).__module__.startswith("asyncpg") and "connection is closed" in str(error):
        return True
    if isinstance(error, ConnectionError):
        return True
    return isinstance(error, OSError) and (
        error.errno in _CONNECT_ERRNOS or "connect call failed" in str(error).lower()
    )


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached (see the module docstring)."""
    if not (isinstance(exc, DBAPIError) or _through_database(exc.__traceback__)):
        return False
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_CHAIN:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if _connection_failure(error):
            return True
        orig = getattr(error, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None]
        pending += [error.__cause__, error.__context__]
    return False
