"""The simulator as a subprocess (`python -m sungrow_sim serve`), as a user would run it."""

import errno
import os
import random
import socket
import sys
from pathlib import Path

import pytest
from support.simproc import SimProcess, launch

__all__ = ["SimProcess", "require_port_80", "start_simulator", "unique_loopback"]

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


def start_simulator(
    tmp: Path, model: str, serial: str, *, http: bool = False, extra: tuple[str, ...] = ()
) -> SimProcess:
    """Start a simulator on a fresh loopback address; http=True binds WiNet-S's 80/8082."""
    host = unique_loopback()
    if http:
        require_port_80(host)
    cmd = [
        sys.executable, "-m", "sungrow_sim", "serve",
        "--model", model, "--serial", serial, "--bind", host,
        "--protocols", "modbus,sungrow,http" if http else "modbus,sungrow",
        "--modbus-port", "0",
        "--ws-port", str(WINET_WS_PORT) if http else "0",
        "--control-port", "0",
        "--start-time", START_TIME, "--seed", "1",
        *(["--http-port", str(WINET_HTTP_PORT)] if http else []),
        *extra,
    ]  # fmt: skip
    return launch(cmd, tmp, host)
