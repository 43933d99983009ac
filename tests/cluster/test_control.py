"""`cluster down` from the pid files alone (as after a crash of `up`), and the haproxy config
`up` renders passing `haproxy -c`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quantdesk.cluster.binaries import BinaryMissing, find_binary
from quantdesk.cluster.control import down
from quantdesk.cluster.haproxy import render_haproxy
from quantdesk.cluster.procs import Launcher, alive, wait_until
from quantdesk.cluster.state import is_cluster_dir, pid_files
from tests.support.common import server_required

pytestmark = pytest.mark.cluster


def test_down_stops_every_process_of_the_pid_files_without_cluster_json(tmp_path: Path) -> None:
    launcher = Launcher(tmp_path)
    # One that ignores SIGTERM: down must SIGKILL it after the bound.
    ready = tmp_path / "deaf.ready"
    stubborn = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(600)"
    )
    polite, _ = launcher.spawn(
        "polite", [sys.executable, "-c", "import time; time.sleep(600)"], os.environ
    )
    deaf, _ = launcher.spawn("deaf", [sys.executable, "-c", stubborn, str(ready)], os.environ)
    wait_until(ready.exists, 30, "the SIGTERM-ignoring process")
    files = pid_files(tmp_path)
    assert [path.name for path in files] == ["02-deaf.pid", "01-polite.pid"]
    assert all(alive(path) for path in files)
    assert is_cluster_dir(tmp_path)

    outcomes = dict(down(tmp_path))

    assert polite.wait(timeout=5) is not None and deaf.wait(timeout=5) is not None
    assert outcomes == {"polite": "stopped", "deaf": "killed"}
    assert pid_files(tmp_path) == []
    assert down(tmp_path) == []  # a second down has nothing left to stop


def test_rendered_haproxy_config_is_valid(tmp_path: Path) -> None:
    try:
        haproxy = find_binary("haproxy", "haproxy")
    except BinaryMissing as error:
        if server_required():
            raise
        pytest.skip(str(error))
    config = tmp_path / "haproxy.cfg"
    config.write_text(render_haproxy(18080, 18404, [18001, 18002, 18003]))
    result = subprocess.run(
        [str(haproxy), "-c", "-f", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = config.read_text()
    for port in (18001, 18002, 18003):
        assert f"server api{port - 18000} 127.0.0.1:{port}" in text
        assert f"server live{port - 18000} 127.0.0.1:{port}" in text
    # No replica ready (Redis or PostgreSQL down for all): the live ones answer, not haproxy.
    assert "use_backend quantdesk_alive if { nbsrv(quantdesk) eq 0 }" in text
    assert "uri /health/live" in text
