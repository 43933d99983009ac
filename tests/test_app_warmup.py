"""The app warms the engine's kernels on a background thread during its lifespan."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.infra import kernel_warmup
from quantdesk.infra.kernel_warmup import THREAD_NAME, KernelWarmup, start_kernel_warmup
from tests.conftest import make_settings, sqlite_url

# A generous bound on a cold numba cache, so a broken warm-up fails instead of hanging.
_WAIT_SECONDS = 600


def _settings(tmp_path: Path, template: Path, **overrides: bool) -> Settings:
    path = tmp_path / "quantdesk.db"
    shutil.copyfile(template, path)
    return make_settings(sqlite_url(path), **overrides)


async def test_app_warms_the_kernels_on_a_daemon_thread_during_its_lifespan(
    tmp_path: Path, sqlite_template: Path
) -> None:
    app = create_app(_settings(tmp_path, sqlite_template, warm_kernels_at_startup=True))
    async with LifespanManager(app):
        warmup: KernelWarmup = app.state.kernel_warmup
        assert warmup.thread is not None
        assert warmup.thread.name == THREAD_NAME
        assert warmup.thread.daemon
        assert warmup.thread is not threading.current_thread()
        assert warmup.done.wait(_WAIT_SECONDS)
        warmup.thread.join(_WAIT_SECONDS)
        assert not warmup.thread.is_alive()
        assert warmup.error is None
        assert "indicator:rsi" in warmup.warmed
        assert "backtest:sma_cross" in warmup.warmed
        assert warmup.seconds is not None


async def test_the_warm_up_is_off_when_the_setting_is(
    tmp_path: Path, sqlite_template: Path
) -> None:
    app = create_app(_settings(tmp_path, sqlite_template))  # make_settings turns it off
    async with LifespanManager(app):
        assert app.state.kernel_warmup is None


def test_a_failing_warm_up_is_recorded_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    failure = RuntimeError("no kernels today")

    def broken() -> list[str]:
        raise failure

    monkeypatch.setattr(kernel_warmup, "warm_kernels", broken)
    warmup = start_kernel_warmup()
    assert warmup.thread is not None
    warmup.thread.join(_WAIT_SECONDS)

    assert warmup.done.is_set()
    assert warmup.error is failure
    assert warmup.warmed == []
