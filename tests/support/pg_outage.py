"""A throwaway PostgreSQL server a test may stop and start again on the same port (a database
outage), unlike the session's shared one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tests.support.postgres_server import PostgresServer, _PostgresInstance


class StoppablePostgres:
    def __init__(self, instance: _PostgresInstance) -> None:
        self._instance = instance

    @property
    def server(self) -> PostgresServer:
        return self._instance.server

    def stop(self) -> None:
        """`pg_ctl stop -m immediate`: connections drop as in a crash."""
        self._instance.stop()

    def start(self) -> None:
        """Start again on the same port and data (crash recovery runs first)."""
        self._instance._start_once(self._instance.port)


@contextlib.contextmanager
def stoppable_postgres() -> Iterator[StoppablePostgres]:
    instance = _PostgresInstance()
    try:
        instance.initdb()
        instance.start()
        yield StoppablePostgres(instance)
    finally:
        instance.close()
