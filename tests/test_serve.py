"""`quantdesk serve` for real: a uvicorn process on 127.0.0.1 serving the loaded demo."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

QUANTDESK = [sys.executable, "-m", "quantdesk.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_migrates_and_serves_the_demo(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "QUANTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    subprocess.run(
        [*QUANTDESK, "demo", "load"], env=env, check=True, capture_output=True, timeout=120
    )
    server = subprocess.Popen(
        [*QUANTDESK, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:  # a start-up timeout, not a speed assertion
                pytest.fail("server did not become ready")
            assert server.poll() is None, "server exited"
            time.sleep(0.2)
        symbols = {
            item["symbol"] for item in httpx.get(f"{base}/api/v1/instruments").json()["data"]
        }
        assert symbols == {"GOOG", "EURUSD", "BTCUSD"}
        assert httpx.get(f"{base}/docs").status_code == 200
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "quantdesk"
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert "request_id=" in output  # development logs are readable and carry the request id


def test_several_workers_share_one_metrics_directory_and_no_in_process_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from quantdesk.cli import app as cli
    from quantdesk.config import get_settings

    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_123.db").write_bytes(b"stale")  # an earlier run's counts
    for name, value in {
        "QUANTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("QUANTDESK_JOBS_SCHEDULER_ENABLED", "QUANTDESK_MONITOR_ENABLED"):
        monkeypatch.setenv(name, "")  # registered for restore; serve's setdefault fills them
        monkeypatch.delenv(name)
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    try:
        result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["workers"] == 2
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(metrics_dir.resolve())
    assert not list(metrics_dir.glob("*.db"))
    assert os.environ["QUANTDESK_JOBS_SCHEDULER_ENABLED"] == "false"
