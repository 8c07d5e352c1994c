"""The library installs beside a consumer's own charm libraries without shadowing them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LIB = Path(__file__).resolve().parents[2] / "lib"


def test_the_charms_namespace_has_no_init_files_that_would_shadow_a_consumer():
    package = LIB / "charms" / "sungrow_sim_k8s"

    assert not (LIB / "charms" / "__init__.py").exists()
    assert sorted(p.relative_to(LIB).as_posix() for p in package.rglob("__init__.py")) == []


def test_a_consumer_lib_dir_and_this_library_import_side_by_side(tmp_path: Path):
    own = tmp_path / "lib" / "charms" / "consumer" / "v0"
    own.mkdir(parents=True)
    (own / "thing.py").write_text("VALUE = 1\n")
    code = (
        "import charms.consumer.v0.thing as thing\n"
        "import charms.sungrow_sim_k8s.v0.inverter as inverter\n"
        "print(thing.VALUE, inverter.LIBAPI)\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": f"{tmp_path / 'lib'}:{LIB}"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "0"]
