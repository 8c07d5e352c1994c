"""Mutation testing with mutmut over a staged copy of the simulator and the interface library.

mutmut derives a module's name from its path below the project root (``src/`` stripped),
so the packages are staged as ``src/sungrow_sim`` and ``src/charms`` beside the fast test
subsets that cover them; ``[tool.mutmut]`` in pyproject.toml names the files to mutate
and the tests to run. Before the end it lists the survivors that docs/testing.md does not
name in full (each needs a line there with its reason). The last line printed is
``mutation: killed=K survived=S timeout=T score=X`` (score = killed / (killed + survived)).

Usage: python tools/mutation.py [--stage DIR] [--max-children N] [NAME ...]

NAME: mutant names or fnmatch patterns (``'sungrow_sim.plant.sun.*'``) to run only those;
the score line then covers only them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where each surviving mutant is explained: a line naming it in full, then its reason.
EXPLAINED_IN = ROOT / "docs/testing.md"
MUTANT_NAME = re.compile(r"[A-Za-z_][\w.ǁ]*__mutmut_\d+")


def explained(text: str) -> set[str]:
    """Mutant names written out in full in the explanations."""
    return set(MUTANT_NAME.findall(text))


def stage(target: Path, config: dict) -> None:
    """Copy the packages and the selected tests into `target` (fresh)."""
    if target.exists():
        shutil.rmtree(target)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "rock/src/sungrow_sim", target / "src/sungrow_sim", ignore=ignore)
    shutil.copytree(ROOT / "lib/charms", target / "src/charms", ignore=ignore)
    # The charm's own modules (not mutated), for tests/unit/conftest.py's imports.
    shutil.copytree(ROOT / "src", target / "charm-src", ignore=ignore)
    (target / "tests").mkdir(parents=True)
    shutil.copytree(ROOT / "tests/support", target / "tests/support", ignore=ignore)
    for selected in config["pytest_add_cli_args_test_selection"]:
        source = ROOT / selected
        dest = target / selected
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, ignore=ignore)
        else:
            shutil.copy2(source, dest)
        # conftest.py files of the folders above a selected test
        for parent in Path(selected).parents:
            conftest = ROOT / parent / "conftest.py"
            if conftest.exists() and not (target / parent / "conftest.py").exists():
                (target / parent).mkdir(parents=True, exist_ok=True)
                shutil.copy2(conftest, target / parent / "conftest.py")
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copy2(ROOT / "charmcraft.yaml", target / "charmcraft.yaml")  # ops.testing's root


def main() -> int:
    parser = argparse.ArgumentParser(description="Mutation testing with mutmut (staged copy)")
    parser.add_argument("--stage", type=Path, default=ROOT / ".tox/mutation-stage")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("names", nargs="*", help="mutant names or patterns (default: all)")
    args = parser.parse_args()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    stage(args.stage, config)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PY_COLORS", "PYTHONBREAKPOINT")
    }
    env["PYTHONPATH"] = f"{args.stage / 'tests'}:{args.stage / 'charm-src'}"
    sys.path.insert(0, str(ROOT / "tests"))
    from support.oracle import register_file  # SunGather's file, found from the checkout

    env.setdefault("SUNGATHER_REGISTERS", str(register_file()))
    began = time.monotonic()
    mutmut = [sys.executable, "-m", "mutmut"]
    run = subprocess.run(
        [*mutmut, "run", "--max-children", str(args.max_children), *args.names],
        cwd=args.stage,
        env=env,
        check=False,
    )
    subprocess.run([*mutmut, "export-cicd-stats"], cwd=args.stage, env=env, check=True)
    stats = json.loads((args.stage / "mutants/mutmut-cicd-stats.json").read_text())
    listing = subprocess.run(
        [*mutmut, "results"], cwd=args.stage, env=env, capture_output=True, text=True, check=True
    )
    survivors = [line.strip() for line in listing.stdout.splitlines() if line.strip()]
    print(f"not killed ({len(survivors)}):")
    for line in survivors:
        print("   ", line)
    names = {line.split(":")[0] for line in survivors if line.endswith(": survived")}
    unexplained = sorted(names - explained(EXPLAINED_IN.read_text()))
    print(f"survivors not explained in {EXPLAINED_IN.relative_to(ROOT)} ({len(unexplained)}):")
    for name in unexplained:
        print("   ", name)
    killed, survived = stats["killed"], stats["survived"]
    timeout = stats.get("timeout", 0)
    tested = killed + survived
    score = killed / tested if tested else 0.0
    minutes = (time.monotonic() - began) / 60
    print(f"mutmut run exit {run.returncode}; {minutes:.1f} min; stats {json.dumps(stats)}")
    print(f"{len(unexplained)} of {len(names)} survivors are not explained in docs/testing.md")
    print(f"mutation: killed={killed} survived={survived} timeout={timeout} score={score:.3f}")
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
