"""Process start to first successful read, and memory at rest."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tools.bench.procs import root
from tools.wire import PlainClient, ReadError

FIRST_READ = ("input", 4999, 1)
TIMEOUT_S = 60.0


def free_port() -> int:
    """A port the OS considers free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _first_read(port: int, proc: subprocess.Popen[bytes], started: float) -> float:
    """Poll until a read answers; seconds since `started`."""
    while time.perf_counter() - started < TIMEOUT_S:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            client = PlainClient(port, timeout=2.0)
        except OSError:
            time.sleep(0.002)
            continue
        try:
            client.read(FIRST_READ)
            return time.perf_counter() - started
        except (OSError, ReadError):
            time.sleep(0.002)
        finally:
            client.close()
    raise RuntimeError("no successful read before the timeout")


def time_to_first_read(argv: list[str], env: dict[str, str], workdir: Path) -> float:
    """Start `argv` (which must listen on PORT, substituted here) and time the first read."""
    port = free_port()
    argv = [str(port) if a == "PORT" else a for a in argv]
    started = time.perf_counter()
    with (workdir / "start.log").open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root())
    try:
        return _first_read(port, proc, started)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def time_to_ready_file(argv: list[str], env: dict[str, str], ready: Path) -> float:
    """Start `argv` (which must write the ready file `ready`) and time until it appears."""
    ready.unlink(missing_ok=True)
    started = time.perf_counter()
    with (ready.parent / "start.log").open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root())
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            if ready.exists():
                return time.perf_counter() - started
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
            time.sleep(0.002)
        raise RuntimeError("no ready file before the timeout")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def time_to_exit(argv: list[str], env: dict[str, str]) -> float:
    """Seconds a command takes from start to exit."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=root(), check=True)
    return time.perf_counter() - started


def floor_rss(env: dict[str, str]) -> float:
    """RSS (MiB) of a python that has imported only aiohttp.web and pydantic."""
    code = "import aiohttp.web, pydantic.main; print(open('/proc/self/statm').read().split()[1])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root(), check=True, capture_output=True
    )
    return int(out.stdout) * os.sysconf("SC_PAGE_SIZE") / 2**20
