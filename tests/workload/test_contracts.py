"""Names the simulator, the charm and the consumer helpers must agree on.

The charm and the helpers run where the simulator package is not installed, so they
spell these lists out; this test keeps the copies in step.
"""

from __future__ import annotations

import importlib.util
import sys
import typing
from pathlib import Path

import yaml
from sungrow_sim.faults import DESCRIPTIONS

from actions import FaultKind

ROOT = Path(__file__).resolve().parents[2]
CHARMCRAFT = ROOT / "charmcraft.yaml"
HELPER_PARAMS = ROOT / "lib" / "sungrow_sim_k8s_testing" / "params.py"


def helper_fault_kinds() -> tuple[str, ...]:
    """The helpers' list, loaded without the package (which needs jubilant)."""
    spec = importlib.util.spec_from_file_location("helper_params", HELPER_PARAMS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module.FAULT_KINDS


def test_fault_kinds_agree_across_simulator_charm_and_helpers():
    kinds = list(DESCRIPTIONS)
    actions = yaml.safe_load(CHARMCRAFT.read_text())["actions"]
    assert list(typing.get_args(FaultKind)) == kinds
    assert list(helper_fault_kinds()) == kinds
    assert actions["inject-fault"]["params"]["kind"]["enum"] == kinds
    assert actions["clear-faults"]["params"]["kind"]["enum"] == kinds
