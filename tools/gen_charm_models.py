"""Generate the charm's list of Sungrow models from the simulator's catalogue.

Usage: python tools/gen_charm_models.py [--check]

The charm validates its `model` option without importing the simulator (which lives in
the rock, not in the charm), so it keeps this generated copy of the catalogue's names,
device codes, families and nominal powers in src/sungrow_models.py. `--check` exits 1
when the file is out of date instead of writing it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "rock" / "src" / "sungrow_sim" / "registers" / "data" / "models.json"
TARGET = ROOT / "src" / "sungrow_models.py"

HEADER = '''\
"""Sungrow models the simulator knows: name -> device code, family, nominal power.

Generated from rock/src/sungrow_sim/registers/data/models.json by tools/gen_charm_models.py;
do not edit by hand, run `python tools/gen_charm_models.py` instead.
"""

from typing import NamedTuple


class ModelInfo(NamedTuple):
    """What the charm needs to know about one model."""

    device_code: int
    family: str
    nominal_power_w: int


MODELS: dict[str, ModelInfo] = {
'''


def render(catalogue: dict) -> str:
    """Return the Python source of src/sungrow_models.py for the catalogue."""
    lines = [HEADER]
    for model in sorted(catalogue["models"], key=lambda m: m["name"]):
        lines.append(
            f"    {json.dumps(model['name'])}: ModelInfo({model['device_code']}, "
            f"{json.dumps(model['family'])}, {model['nominal_power_w']}),\n"
        )
    lines.append("}\n")
    return "".join(lines)


def main(argv: list[str]) -> int:
    source = render(json.loads(CATALOGUE.read_text()))
    if "--check" in argv:
        if TARGET.read_text() != source:
            print(f"{TARGET} is out of date: run python tools/gen_charm_models.py")
            return 1
        return 0
    TARGET.write_text(source)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
