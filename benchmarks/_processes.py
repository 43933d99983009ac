"""Subprocess helpers shared by the benchmarks that start servers."""

from __future__ import annotations

import signal
import subprocess


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGINT (a server's graceful stop), then kill after 10 s."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def exit_on_signal(signum: int, _frame: object) -> None:
    # `timeout` and CI send SIGTERM: exit through the finally blocks that stop the servers.
    raise SystemExit(128 + signum)
