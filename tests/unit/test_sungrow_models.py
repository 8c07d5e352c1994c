"""The charm's generated model list matches the simulator's catalogue."""

from __future__ import annotations

import json
from pathlib import Path

from sungrow_models import MODELS, ModelInfo

CATALOGUE = (
    Path(__file__).parents[2]
    / "rock"
    / "src"
    / "sungrow_sim"
    / "registers"
    / "data"
    / "models.json"
)


def test_the_charm_knows_exactly_the_models_of_the_simulator_catalogue():
    catalogue = json.loads(CATALOGUE.read_text())["models"]

    expected = {
        model["name"]: ModelInfo(model["device_code"], model["family"], model["nominal_power_w"])
        for model in catalogue
    }
    assert MODELS == expected, "run: python tools/gen_charm_models.py"


def test_the_models_named_in_the_docs_are_known():
    assert MODELS["SG10RT"].device_code == 0x2433
    assert MODELS["SH10RT"] == ModelInfo(0x0E03, "hybrid", 10000)
    assert MODELS["SG5.0RS"].device_code == 0x2606
