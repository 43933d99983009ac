"""The app warms the engine's kernels on a background thread during its lifespan."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager

from quantdesk.app import create_app
from quantdesk.config import Settings
from quantdesk.infra import kernel_warmup
from quantdesk.infra.kernel_warmup import THREAD_NAME, KernelWarmup, start_kernel_warmup
from tests.support.settings import make_settings, sqlite_url

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
    warmup = start_kernel_warmup(make_settings("sqlite://", warm_kernels_at_startup=True))
    assert warmup is not None and warmup.thread is not None
    warmup.thread.join(_WAIT_SECONDS)

    assert warmup.done.is_set()
    assert warmup.error is failure
    assert warmup.warmed == []


# A fresh interpreter: freezing this one would keep the whole suite's garbage forever.
_FREEZE_PROBE = textwrap.dedent(
    """
    import gc, sys
    from quantdesk.config import Settings
    from quantdesk.infra.kernel_warmup import start_kernel_warmup

    freeze = sys.argv[1] == "freeze"
    settings = Settings(
        _env_file=None, warm_kernels_at_startup=True, gc_freeze_at_startup=freeze
    )
    warmup = start_kernel_warmup(settings)
    warmup.thread.join()
    assert warmup.error is None, warmup.error
    print(gc.get_freeze_count())
    """
)


@pytest.mark.parametrize("freeze", [True, False])
def test_the_warm_up_freezes_what_it_loaded_when_the_lifespan_freezes(freeze: bool) -> None:
    """The kernels' objects would otherwise trigger a full collection in a later request."""
    probe = subprocess.run(
        [sys.executable, "-c", _FREEZE_PROBE, "freeze" if freeze else "keep"],
        capture_output=True,
        text=True,
        check=False,
        timeout=_WAIT_SECONDS,
    )
    assert probe.returncode == 0, probe.stderr
    frozen = int(probe.stdout.strip().splitlines()[-1])
    assert (frozen > 0) is freeze
