"""charmcraft.yaml and the charm's Config and action classes describe the same things."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions import ACTIONS
from config import Config

CHARMCRAFT = yaml.safe_load((Path(__file__).parents[2] / "charmcraft.yaml").read_text())
OPTIONS: dict[str, Any] = CHARMCRAFT["config"]["options"]
ACTION_SPECS: dict[str, Any] = CHARMCRAFT["actions"]


def test_every_config_option_has_a_config_field_and_back():
    assert {name.replace("-", "_") for name in OPTIONS} == set(Config.model_fields)


@pytest.mark.parametrize("option", list(OPTIONS))
def test_config_defaults_are_valid_and_agree_with_the_config_class(option: str):
    loaded = Config(**{name.replace("-", "_"): o["default"] for name, o in OPTIONS.items()})
    field = option.replace("-", "_")

    value = getattr(loaded, field)

    expected = Config.model_fields[field].default
    assert (",".join(value) if option == "protocols" else value) == (
        ",".join(expected) if option == "protocols" else expected
    )


def test_every_action_has_a_params_class_and_back():
    assert set(ACTION_SPECS) == set(ACTIONS)


@pytest.mark.parametrize("action", list(ACTION_SPECS))
def test_action_params_agree_with_the_params_class(action: str):
    spec = ACTION_SPECS[action]
    fields = ACTIONS[action].model_fields

    assert {name.replace("-", "_") for name in spec.get("params", {})} == set(fields)
    assert spec["additionalProperties"] is False
    for name in spec.get("required", []):
        assert fields[name.replace("-", "_")].is_required(), name


@pytest.mark.parametrize(
    ("action", "param"),
    [("set-state", "state"), ("inject-fault", "kind"), ("clear-faults", "kind")],
)
def test_action_enums_agree_with_the_params_class(action: str, param: str):
    annotation = ACTIONS[action].model_fields[param].annotation
    candidates = [annotation, *typing.get_args(annotation)]
    literal = next(a for a in candidates if typing.get_origin(a) is typing.Literal)
    values = list(typing.get_args(literal))

    assert ACTION_SPECS[action]["params"][param]["enum"] == values


def test_the_packed_charm_gets_only_lib_charms():
    # charmcraft's uv plugin copies lib/ whole; everything there but charms/ (the
    # library packages, the jubilant test helpers, pyproject.toml) is kept out by prime.
    lib = Path(__file__).parents[2] / "lib"
    prime = CHARMCRAFT["parts"]["charm"]["prime"]
    entries = sorted(
        p.name
        for p in lib.iterdir()
        if p.name not in ("charms", "__pycache__") and p.name[0] != "."
    )

    assert sorted(e.removeprefix("-lib/") for e in prime) == entries
    assert all(e.startswith("-lib/") for e in prime)
