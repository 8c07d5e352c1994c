"""One virtual environment per real client library, built with uv from pinned requirements.

Environments live under $COMPAT_VENV_DIR (tox sets .tox/compat-clients), keyed by a hash
of the requirements file, so reruns reuse them and a changed pin builds a new one.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parent.parent
DRIVERS = HERE / "drivers"
CLIENTS = ("sungather", "pysungrow", "sungrowinverter")


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise RuntimeError("uv is not installed: the compat env's dependency group brings it")
    return found


def venv_root() -> Path:
    """Where client environments are cached."""
    default = REPO / ".tox" / "compat-clients"
    return Path(os.environ.get("COMPAT_VENV_DIR", default))


def client_python(name: str) -> Path:
    """The Python of client `name`'s environment, building the environment if needed."""
    requirements = HERE / f"requirements-{name}.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = venv_root() / f"{name}-{digest}"
    python = venv / "bin" / "python"
    done = venv / ".installed"
    if done.exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    uv = _uv()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(python), "-r", str(requirements)],
        check=True,
    )
    done.write_text(requirements.read_text())
    return python


class DriverError(AssertionError):
    """A driver script failed or printed no JSON result."""


def run_driver(name: str, script: str, args: dict, timeout: float = 180) -> dict:
    """Run drivers/`script` with client `name`'s Python; return its JSON result.

    The driver gets `args` as JSON in argv[1] and prints one JSON object as its last
    stdout line; its log (stderr) is attached to any failure.
    """
    python = client_python(name)
    proc = subprocess.run(
        [str(python), str(DRIVERS / script), json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise DriverError(
            f"{script} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n"
            f"--- stderr (last 4000 chars)\n{proc.stderr[-4000:]}"
        )
    result = json.loads(lines[-1])
    result["_log"] = proc.stderr
    return result
