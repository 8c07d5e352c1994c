"""A consumer charm built with charmcraft's uv plugin depends on the library as packages.

A throwaway consumer project depends on `sungrow-sim-k8s-lib` (runtime) and
`sungrow-sim-k8s-testing` (its `integration` group) by path, as docs/requirer.md shows
with git sources. `uv sync` is run with the flags and environment charmcraft's uv plugin
uses to build a charm's venv; the packed charm's venv must have the interface library
under its regular name and no test helpers, and the library must import while the
consumer's own lib/charms/__init__.py hides every installed `charms.*` package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "lib"


def uv() -> str:
    found = shutil.which("uv")
    assert found, "uv is needed (tox-requirements.txt installs it beside tox)"
    return found


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, "UV_PYTHON": sys.executable, "UV_NO_PROGRESS": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A consumer charm project: its own lib/charms package and a locked pyproject."""
    root = tmp_path_factory.mktemp("consumer")
    own = root / "lib" / "charms" / "consumer" / "v0"
    own.mkdir(parents=True)
    (root / "lib" / "charms" / "__init__.py").write_text("")  # hides installed charms.*
    (own / "__init__.py").write_text("")
    (own / "thing.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "consumer-k8s"
            version = "0.1.0"
            requires-python = ">=3.10"
            dependencies = ["sungrow-sim-k8s-lib"]

            [dependency-groups]
            integration = ["sungrow-sim-k8s-testing"]

            [tool.uv]
            package = false

            [tool.uv.sources]
            sungrow-sim-k8s-lib = {{ path = "{LIB}" }}
            sungrow-sim-k8s-testing = {{ path = "{LIB / "testing"}" }}
            """
        )
    )
    run([uv(), "lock", "-q"], root)
    return root


def charm_venv(consumer: Path, name: str, *groups: str) -> Path:
    """`uv sync` as charmcraft's uv plugin runs it (frozen, no dev, not editable)."""
    venv = consumer / name
    flags = [f"--group={group}" for group in groups]
    run(
        [
            uv(),
            "sync",
            "-q",
            "--no-dev",
            "--no-editable",
            "--reinstall",
            "--no-install-project",
            *flags,
        ],
        consumer,
        UV_FROZEN="true",
        UV_PROJECT_ENVIRONMENT=str(venv),
    )
    return venv


def python_in(venv: Path, consumer: Path, code: str) -> str:
    done = run(
        [str(venv / "bin" / "python"), "-c", code], consumer, PYTHONPATH=str(consumer / "lib")
    )
    return done.stdout.strip()


def test_the_charm_venv_has_the_library_and_no_test_helpers(consumer: Path):
    venv = charm_venv(consumer, "charm-venv")

    (site,) = venv.glob("lib/python3*/site-packages")
    assert (site / "sungrow_sim_k8s_lib" / "inverter.py").is_file()
    assert not (site / "sungrow_sim_k8s_testing").exists()
    assert not (site / "jubilant").exists()


def test_the_regular_name_imports_beside_a_consumer_charms_package(consumer: Path):
    venv = charm_venv(consumer, "charm-venv-2")
    code = (
        "import charms.consumer.v0.thing as thing\n"
        "from sungrow_sim_k8s_lib.inverter import InverterRequirer, LIBAPI\n"
        "print(thing.VALUE, LIBAPI, InverterRequirer.__name__)\n"
    )

    assert python_in(venv, consumer, code).split() == ["1", "0", "InverterRequirer"]


def test_the_integration_group_adds_the_helpers_on_the_same_library(consumer: Path):
    venv = charm_venv(consumer, "test-venv", "integration")
    code = (
        "import sungrow_sim_k8s_lib.inverter as lib\n"
        "import sungrow_sim_k8s_testing.connection as helpers\n"
        "from sungrow_sim_k8s_testing import LocalSimulator, Simulator, wait_until\n"
        "print(helpers.Inverter is lib.Inverter)\n"
    )

    assert python_in(venv, consumer, code) == "True"


def test_the_built_wheels_split_library_and_helpers(tmp_path: Path):
    out = tmp_path / "dist"
    run([uv(), "build", "-q", "--wheel", "-o", str(out), str(LIB)], tmp_path)
    run([uv(), "build", "-q", "--wheel", "-o", str(out), str(LIB / "testing")], tmp_path)
    listing = {
        wheel.name.split("-")[0]: sorted(
            name.split("/")[0]
            for name in subprocess.run(
                [sys.executable, "-m", "zipfile", "-l", str(wheel)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            if "/" in name and ".dist-info" not in name
        )
        for wheel in out.glob("*.whl")
    }

    assert set(listing["sungrow_sim_k8s_lib"]) == {"charms", "sungrow_sim_k8s_lib"}
    assert set(listing["sungrow_sim_k8s_testing"]) == {"sungrow_sim_k8s_testing"}
