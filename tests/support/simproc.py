"""The simulator as a subprocess (`python -m sungrow_sim serve`), as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import process

START_TIMEOUT_S = 30.0


@dataclass
class SimProcess:
    """A running simulator and its bound ports."""

    proc: subprocess.Popen[bytes]
    ports: dict[str, int]
    log_path: Path
    host: str = "127.0.0.1"
    control_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.control_url = f"http://127.0.0.1:{self.ports['control_port']}"

    def ctl_argv(self, *args: str) -> list[str]:
        """The command line of `sungrow-sim ctl ARGS` against this simulator."""
        return [sys.executable, "-m", "sungrow_sim", "ctl", "--url", self.control_url, *args]

    def ctl(self, *args: str, check: bool = True) -> Any:
        """Run `sungrow-sim ctl ARGS` against this simulator; return its JSON."""
        proc = subprocess.run(
            self.ctl_argv(*args), capture_output=True, text=True, timeout=30, check=False
        )
        if proc.returncode != 0:
            if not check:
                return proc
            raise AssertionError(f"ctl {' '.join(args)} failed: {proc.stderr.strip()}")
        return json.loads(proc.stdout) if check else proc

    def inverter(self, index: int = 0) -> dict[str, Any]:
        """One inverter's entry of `ctl state`."""
        return self.ctl("state")["inverters"][index]

    def log(self) -> str:
        """The simulator's stderr so far."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        """Stop the simulator (SIGTERM, then SIGKILL)."""
        process.stop(self.proc)


def launch(argv: list[str], tmp: Path, host: str = "127.0.0.1") -> SimProcess:
    """Start `argv` (a serve command line) with a ready file; wait until it listens."""
    ready = tmp / f"ready-{time.monotonic_ns()}.json"
    log_path = ready.with_suffix(".log")
    cmd = [*argv, "--ready-file", str(ready)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while (ports := read_ready(ready)) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"simulator did not start: {cmd}\n{log_path.read_text()}")
        time.sleep(0.02)
    return SimProcess(proc, ports, log_path, host)


def serve_command(*args: str) -> list[str]:
    """`python -m sungrow_sim serve ARGS` with every port OS-assigned unless given."""
    argv = [sys.executable, "-m", "sungrow_sim", "serve"]
    for flag in ("--modbus-port", "--ws-port", "--http-port", "--control-port"):
        if flag not in args:
            argv += [flag, "0"]
    return [*argv, *args]


def read_ready(path: Path) -> dict[str, int] | None:
    """The ports a ready file lists, or None until it is written."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
