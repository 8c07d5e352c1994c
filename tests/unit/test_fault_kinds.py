"""The charm's, the helpers' and charmcraft.yaml's fault kinds are generated from the simulator."""

from __future__ import annotations

import importlib.util
import typing
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from sungrow_sim_k8s_testing import FAULT_KINDS

from actions import ACTIONS
from fault_kinds import FaultKind

ROOT = Path(__file__).resolve().parents[2]
FAULTS_PY = ROOT / "rock" / "src" / "sungrow_sim" / "faults.py"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_fault_kinds", ROOT / "tools" / "gen_fault_kinds.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = load_generator()
SAMPLE = {"meteor": "a rock falls on the roof", "grid-loss": "grid gone"}


@pytest.mark.parametrize("path", list(gen.targets(gen.catalogue())), ids=lambda p: p.name)
def test_the_generated_file_is_what_the_generator_writes_today(path: Path):
    expected = gen.targets(gen.catalogue())[path]

    assert path.read_text() == expected, "run: python tools/gen_fault_kinds.py"


def test_the_catalogue_is_the_simulators_literal_in_order():
    # Read the simulator's source text, not its module, for a second opinion.
    source = FAULTS_PY.read_text()
    literal = source[
        source.index("FaultKind = Literal[") : source.index(
            "]", source.index("FaultKind = Literal[")
        )
    ]

    kinds = [line.strip().strip('",') for line in literal.splitlines()[1:] if line.strip()]

    assert list(gen.catalogue()) == kinds
    assert len(kinds) == 14


def test_the_charm_helpers_and_actions_offer_exactly_the_simulators_kinds():
    kinds = list(gen.catalogue())
    spec = yaml.safe_load((ROOT / "charmcraft.yaml").read_text())["actions"]

    assert list(typing.get_args(FaultKind)) == kinds
    assert list(FAULT_KINDS) == kinds
    assert spec["inject-fault"]["params"]["kind"]["enum"] == kinds
    assert spec["clear-faults"]["params"]["kind"]["enum"] == kinds
    assert ACTIONS["inject-fault"].model_fields["kind"].annotation is FaultKind


def test_the_generator_rewrites_the_kind_enum_of_both_fault_actions_and_nothing_else():
    text = (ROOT / "charmcraft.yaml").read_text()

    rewritten = yaml.safe_load(gen.render_charmcraft(text, SAMPLE))

    original = yaml.safe_load(text)
    for action in ("inject-fault", "clear-faults"):
        assert rewritten["actions"][action]["params"]["kind"].pop("enum") == list(SAMPLE)
        original["actions"][action]["params"]["kind"].pop("enum")
    assert rewritten == original


def test_the_generator_rewrites_only_the_region_of_the_helpers_params():
    text = gen.HELPERS_PARAMS.read_text()

    rewritten = gen.render_helpers_params(text, SAMPLE)

    namespace: dict[str, object] = {}
    exec(compile(rewritten, "params.py", "exec"), namespace)  # noqa: S102 (our own source)
    assert namespace["FAULT_KINDS"] == tuple(SAMPLE)
    outside = text.split(gen.REGION_BEGIN)[0], text.split(gen.REGION_END)[1]
    assert rewritten.startswith(outside[0]) and rewritten.endswith(outside[1])


def test_the_charm_module_declares_the_kinds_as_a_literal():
    namespace: dict[str, object] = {}
    exec(compile(gen.render_charm_module(SAMPLE), "fault_kinds.py", "exec"), namespace)  # noqa: S102

    assert typing.get_args(namespace["FaultKind"]) == tuple(SAMPLE)


def test_a_charmcraft_yaml_without_the_enum_is_a_clear_error():
    text = (
        (ROOT / "charmcraft.yaml")
        .read_text()
        .replace(
            "        enum:\n          - inverter-fault",
            "        x:\n          - inverter-fault",
            1,
        )
    )

    with pytest.raises(gen.LayoutError, match="'enum:'"):
        gen.render_charmcraft(text, SAMPLE)
