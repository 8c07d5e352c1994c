"""Child processes of the tests and the bench."""

from __future__ import annotations

import subprocess

STOP_TIMEOUT_S = 10.0  # how long a server may take to shut down on SIGTERM


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM; SIGKILL if it has not exited within STOP_TIMEOUT_S."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
