"""Server processes for the bench: the simulator and the bare pymodbus server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from tools import process

START = "2026-06-21T12:00:00"  # midday: every reading is live
READY_TIMEOUT_S = 60.0


@dataclass
class Server:
    """A running server process and its bound ports."""

    name: str
    proc: subprocess.Popen[bytes]
    ports: dict[str, int]
    ready_s: float = 0.0  # from process start to its ready file

    @property
    def port(self) -> int:
        """The Modbus port."""
        return self.ports["modbus_port"]

    def rss_mib(self) -> float:
        """Resident set size now."""
        return psutil.Process(self.proc.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        """SIGTERM, then SIGKILL."""
        process.stop(self.proc)


def bytecode_env(cache: Path | None) -> dict[str, str]:
    """The environment for a server: bytecode cached under `cache`, or never (cold)."""
    env = dict(os.environ)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "no-such-pycache")
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def sim_argv(*args: str) -> list[str]:
    """`python -m sungrow_sim serve` on OS-assigned ports, quiet, at a fixed midday."""
    argv = [sys.executable, "-m", "sungrow_sim", "serve", "--log-level", "warning"]
    for flag in ("--modbus-port", "--ws-port", "--http-port", "--control-port"):
        if flag not in args:
            argv += [flag, "0"]
    if "--config" not in args:
        argv += ["--start-time", START]
    return [*argv, *args]


def bare_argv(blocks: Path, devices: int = 1) -> list[str]:
    """The bare pymodbus server over static blocks."""
    return [
        sys.executable, "-m", "tools.bench.bare_server", "--blocks", str(blocks),
        "--devices", str(devices),
    ]  # fmt: skip


def launch(name: str, argv: list[str], workdir: Path, env: dict[str, str]) -> Server:
    """Start a server with a ready file; wait until it listens."""
    ready = workdir / f"{name}-{time.monotonic_ns()}.ready"
    argv = [*argv, "--ready-file", str(ready)]
    log = (workdir / f"{ready.stem}.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root())
    deadline = started + READY_TIMEOUT_S
    while True:
        try:
            ports = json.loads(ready.read_text())
            return Server(name, proc, ports, time.monotonic() - started)
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{name} did not start: {argv}\n{log.name}")
        time.sleep(0.01)


def root() -> Path:
    """The repository root (the servers run from there)."""
    return Path(__file__).resolve().parents[2]
