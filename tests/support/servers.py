"""Real, throwaway PostgreSQL and Redis servers for tests and benchmarks: the public facade.

The code lives in tests/support/postgres_server.py (``running_postgres()``),
tests/support/redis_server.py (``running_redis()``) and tests/support/common.py (ports,
process stopping, :class:`ServerUnavailable`, :func:`server_required`); this module re-exports
their public names so importers (tests/conftest.py, the tests, benchmarks/bench_foundation.py)
keep one stable import path. Each server has its own temp dir and a free port on ``127.0.0.1``
(never 5432 or 6379), so several can run at once and a system-wide server is never touched. A
missing binary, or a server that does not accept connections within ~30 s, raises
:class:`ServerUnavailable`; tests should skip on it, except on CI where :func:`server_required`
is true and they must fail instead.
"""

from __future__ import annotations

from tests.support.common import ServerUnavailable, server_required
from tests.support.postgres_server import PostgresServer, find_postgres_bin_dir, running_postgres
from tests.support.redis_server import RedisProcess, RedisServer, find_redis_server, running_redis

__all__ = [
    "PostgresServer",
    "RedisProcess",
    "RedisServer",
    "ServerUnavailable",
    "find_postgres_bin_dir",
    "find_redis_server",
    "running_postgres",
    "running_redis",
    "server_required",
]
