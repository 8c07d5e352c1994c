"""README's two Quick start commands work on a fresh clone, in either order.

tox (4.60+) writes a PEP 832 `.venv` redirect *file* after a run, unless tox.ini sets
`venv_redirect = false`; README's first command then fails with "Not a directory"
(`python3 -m venv .venv`). Both orders run here in a fresh copy of the tracked files.

Bounded, and not recursive: the first command's last step, `sungrow-sim serve`, gets
port 0 and --ready-file and is stopped once it listens; the second command runs the
README's exact pip step and then tox on one environment with no dependency groups
(`-e py311 --notest`) instead of the whole default run. That keeps what matters, since
tox writes the redirect file after any environment it runs, and does not run this suite
inside itself.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The interpreter this venv was made from: the one with pip and tox on it.
HOST_BIN = Path(getattr(sys, "_base_executable", sys.executable)).parent


def quick_start_commands() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    start, test = re.findall(r"```sh\n(.*?)\n```", section, re.S)[:2]
    return start.strip(), test.strip()


def fresh_copy(dest: Path) -> Path:
    """The tracked files of this tree (as a fresh clone has them), no .tox, no .venv."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target = dest / name.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return dest


def shell_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "TOX_"))}
    env["PATH"] = f"{HOST_BIN}:{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


def run_start_command(clone: Path, command: str) -> dict[str, int]:
    """The first command, its server on free ports; the ports once it is ready."""
    assert command.endswith("sungrow-sim serve"), command
    ready = clone / "ready.json"
    bounded = (
        f"{command} --modbus-port 0 --ws-port 0 --http-port 0 --control-port 0"
        f" --state-dir {shlex.quote(str(clone / 'state'))} --ready-file {shlex.quote(str(ready))}"
    )
    log = (clone / "start.log").open("wb")
    proc = subprocess.Popen(
        ["bash", "-c", bounded],
        cwd=clone,
        env=shell_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            if ready.exists() and ready.read_text().strip():
                return json.loads(ready.read_text())
            if proc.poll() is not None:
                pytest.fail(
                    f"`{command}` exited {proc.returncode}:\n{(clone / 'start.log').read_text()}"
                )
            time.sleep(0.2)
        pytest.fail(f"`{command}` did not get ready:\n{(clone / 'start.log').read_text()}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()


def run_test_command(clone: Path, command: str) -> None:
    """The second command with tox bounded to one dependency-free environment."""
    assert command.endswith("python3 -m tox"), command
    done = subprocess.run(
        ["bash", "-c", f"{command} -e py311 --notest"],
        cwd=clone,
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"`{command}`:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (clone / ".tox" / "py311").is_dir()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("order", ["start-then-test", "test-then-start"])
def test_the_quick_start_commands_work_in_either_order(tmp_path: Path, order: str):
    start, test = quick_start_commands()
    clone = fresh_copy(tmp_path / "clone")

    if order == "start-then-test":
        ports = run_start_command(clone, start)
        run_test_command(clone, test)
    else:
        run_test_command(clone, test)
        assert not (clone / ".venv").exists(), "tox left a .venv behind"
        ports = run_start_command(clone, start)

    assert ports["modbus_port"] > 0
    assert (clone / ".venv").is_dir()
