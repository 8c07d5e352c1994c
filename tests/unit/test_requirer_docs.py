"""docs/requirer.md's recipe is a working charm whose documented tests pass.

The yaml, charm and test blocks are written, unchanged, into a temporary charm
directory (charmcraft.yaml, src/charm.py, tests/unit/test_inverter.py); its tests run
with pytest in a subprocess, the library from this repository's lib/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "requirer.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)


def block_for(path: str) -> str:
    (found,) = [b for b in blocks("python") if b.startswith(f"# {path}\n")]
    return found


def test_the_charmcraft_block_declares_the_requirer_endpoint():
    (charmcraft,) = blocks("yaml")
    project = yaml.safe_load(charmcraft)

    assert project["requires"]["inverter"]["interface"] == "inverter"
    assert "git" in project["parts"]["charm"]["build-packages"]


def test_the_recipe_charm_passes_its_documented_tests(tmp_path: Path):
    (charmcraft,) = blocks("yaml")
    (tmp_path / "charmcraft.yaml").write_text(charmcraft)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "charm.py").write_text(block_for("src/charm.py"))
    tests = tmp_path / "tests" / "unit"
    tests.mkdir(parents=True)
    (tests / "test_inverter.py").write_text(block_for("tests/unit/test_inverter.py"))

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit"],
        cwd=tmp_path,
        env={**os.environ, "PY_COLORS": "0", "PYTHONPATH": f"{tmp_path / 'src'}:{ROOT / 'lib'}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b7 passed\b", done.stdout), done.stdout[-2000:]


def test_the_port_table_matches_port_for():
    from sungrow_sim_k8s_lib.inverter import EXAMPLE_UNIT_DATA, Inverter

    inverter = Inverter.from_unit_data(0, "sim/0", EXAMPLE_UNIT_DATA)
    assert inverter is not None
    rows = re.findall(r"^\| `(\w+)` \| \w+ port \((\d+)\) \|", DOC.read_text(), re.M)

    assert [name for name, _ in rows] == ["modbus", "sungrow", "http", "ws", "getparam"]
    assert {name: inverter.port_for(name) for name, _ in rows} == {
        name: int(port) for name, port in rows
    }
