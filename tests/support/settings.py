"""Settings and database URLs for tests, and starting a server or skipping (failing on CI)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

from quantdesk.config import Settings
from tests.support.servers import (
    ServerUnavailable,
    server_required,
)

T = TypeVar("T")


def unavailable(exc: ServerUnavailable) -> NoReturn:
    if server_required():
        pytest.fail(f"server required on CI but unavailable: {exc}")
    pytest.skip(f"server unavailable: {exc}")


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: no .env file, development unless overridden; no gc.freeze (the
    suite builds hundreds of apps, and frozen objects are never collected) and no kernel
    warm-up thread per app (tests that want it turn it on)."""
    overrides.setdefault("gc_freeze_at_startup", False)
    overrides.setdefault("warm_kernels_at_startup", False)
    return Settings(_env_file=None, database_url=database_url, **overrides)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def start_or_skip(stack: contextlib.ExitStack, server: contextlib.AbstractContextManager[T]) -> T:
    """Enter a server's context on `stack`; skip (fail on CI) when it cannot start."""
    try:
        return stack.enter_context(server)
    except ServerUnavailable as exc:
        unavailable(exc)
