"""The simulator as a subprocess (`python -m sungrow_sim serve`), as a user would run it."""

import errno
import json
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Set to 1 to skip (not fail) http-mode tests when port 80 cannot be bound here.
ALLOW_NO_PORT_80 = "SUNGROW_COMPAT_ALLOW_NO_PORT_80"
WINET_HTTP_PORT = 80  # SungrowModbusWebClient hard-codes it
WINET_WS_PORT = 8082  # SungrowClient forces it in http mode
START_TIME = "2026-06-21T12:00:00"  # midday: the daily yield only grows during a test


def unique_loopback() -> str:
    """A random 127.x.y.z address, so fixed ports (80, 8082) never collide between tests."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


def require_port_80(host: str) -> None:
    """Fail (or skip, if allowed by $SUNGROW_COMPAT_ALLOW_NO_PORT_80) without port 80."""
    with socket.socket() as probe:
        try:
            probe.bind((host, WINET_HTTP_PORT))
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM):
                raise
            reason = (
                f"cannot bind {host}:80 ({exc.strerror}); the WiNet-S client hard-codes HTTP "
                "port 80: run as root, or see docs/protocols.md for unprivileged ways "
                f"(sysctl net.ipv4.ip_unprivileged_port_start=80), or set {ALLOW_NO_PORT_80}=1"
            )
            if os.environ.get(ALLOW_NO_PORT_80) == "1":
                pytest.skip(reason)
            pytest.fail(reason)


@dataclass
class SimProcess:
    """A running simulator and its bound ports."""

    host: str
    proc: subprocess.Popen
    ports: dict[str, int]
    log_path: Path
    control_url: str = field(init=False)

    def __post_init__(self):
        self.control_url = f"http://127.0.0.1:{self.ports['control_port']}"

    def ctl_argv(self, *args: str) -> list[str]:
        """The command line of `sungrow-sim ctl ARGS` against this simulator."""
        return [sys.executable, "-m", "sungrow_sim", "ctl", "--url", self.control_url, *args]

    def ctl(self, *args: str) -> dict:
        """Run `sungrow-sim ctl ARGS` against this simulator; return its JSON."""
        cmd = self.ctl_argv(*args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"ctl {' '.join(args)} failed: {proc.stderr.strip()}")
        return json.loads(proc.stdout)

    def inverter(self) -> dict:
        """The first inverter's entry of `ctl state`."""
        return self.ctl("state")["inverters"][0]

    def log(self) -> str:
        """The simulator's stderr so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the simulator (SIGTERM, then SIGKILL)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_simulator(
    tmp: Path, model: str, serial: str, *, http: bool = False, extra: tuple[str, ...] = ()
) -> SimProcess:
    """Start a simulator on a fresh loopback address; http=True binds WiNet-S's 80/8082."""
    host = unique_loopback()
    if http:
        require_port_80(host)
    ready = tmp / f"ready-{host}.json"
    log_path = tmp / f"sim-{host}.log"
    cmd = [
        sys.executable, "-m", "sungrow_sim", "serve",
        "--model", model, "--serial", serial, "--bind", host,
        "--protocols", "modbus,sungrow,http" if http else "modbus,sungrow",
        "--modbus-port", "0",
        "--ws-port", str(WINET_WS_PORT) if http else "0",
        "--control-port", "0", "--ready-file", str(ready),
        "--start-time", START_TIME, "--seed", "1",
        *(["--http-port", str(WINET_HTTP_PORT)] if http else []),
        *extra,
    ]  # fmt: skip
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while (ports := _read_ready(ready)) is None:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"simulator did not start: {cmd}\n{log_path.read_text()}")
        time.sleep(0.05)
    return SimProcess(host, proc, ports, log_path)


def _read_ready(path: Path) -> dict[str, int] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
