"""SunGather's range selection taken from SungrowClient 0.1.0 itself, for every model.

SungrowClient's own `configure_registers`, fed SunGather's own register file, says which
ranges SunGather reads for each of the simulator's models at levels 1 and 2; a pymodbus 3
client then reads every one of them from one simulator serving all models (one unit id
each): each must answer in full. The copy of the selection in tools/sungather_ranges.py
(used where SungrowClient cannot be imported) must select the same ranges.
"""

import json
from pathlib import Path

import yaml
from clients import run_driver
from pymodbus.client import ModbusTcpClient
from sungrow_sim.registers import catalogue
from support.simproc import launch, serve_command

from tools.sungather_ranges import ranges as copied_ranges

MODELS = sorted(catalogue().models)
LEVELS = (1, 2)


def sungrowclient_ranges(register_file: Path) -> dict:
    """Model -> level -> ranges; (model, level) pairs where SungrowClient raises are left out."""
    args = {"registers": str(register_file), "models": MODELS, "levels": list(LEVELS)}
    result = run_driver("sungather", "sungather_ranges.py", args)
    result.pop("_log")
    for model, levels in result.items():
        for level, ranges in list(levels.items()):
            if isinstance(ranges, dict):
                print(f"SungrowClient cannot configure {model} at level {level}: {ranges}")
                del levels[level]
    return result


def test_every_range_sungrowclient_selects_is_served_in_full(register_file, tmp_path):
    selected = sungrowclient_ranges(register_file)
    config = tmp_path / "all-models.yaml"
    config.write_text(
        json.dumps(
            {
                "inverters": [
                    {"model": m, "serial": f"SIM{n:07d}", "unit_id": n}
                    for n, m in enumerate(MODELS, 1)
                ]
            }
        )
    )  # fmt: skip  (JSON is YAML)
    sim = launch(serve_command("--config", str(config), "--protocols", "modbus"), tmp_path)
    failures = []
    try:
        client = ModbusTcpClient("127.0.0.1", port=sim.ports["modbus_port"], timeout=5, retries=0)
        assert client.connect()
        for unit, model in enumerate(MODELS, 1):
            for level in LEVELS:
                for r in selected[model].get(str(level), []):
                    call = (
                        client.read_input_registers if r["type"] == "read"
                        else client.read_holding_registers
                    )  # fmt: skip
                    response = call(r["start"], count=r["count"], device_id=unit)
                    if response.isError() or len(response.registers) != r["count"]:
                        failures.append((model, level, r, str(response)))
        client.close()
    finally:
        sim.stop()
    assert sum(len(selected[m].get("2", [])) for m in MODELS) > len(MODELS), "nothing selected"
    assert failures == []


def sungather_models(register_file: Path) -> set[str]:
    """The models SunGather's own device table names."""
    data = yaml.safe_load(register_file.read_text())
    for entry in data["registers"][0]["read"]:
        if entry["name"] == "device_type_code":
            return {d["value"] for d in entry["datarange"]}
    raise AssertionError("no device_type_code in SunGather's file")


def test_the_copied_selection_agrees_with_sungrowclient(register_file):
    """Equal for the models SunGather knows; a superset for the others.

    For models SunGather does not know (added from the vendor's documents), the copy
    reads at least what SungrowClient would.
    """
    selected = sungrowclient_ranges(register_file)
    known = sungather_models(register_file)
    table = {"read": "input", "hold": "holding"}
    for model in MODELS:
        for level in (lv for lv in LEVELS if str(lv) in selected[model]):
            real = sorted(
                (table[r["type"]], r["start"], r["count"]) for r in selected[model][str(level)]
            )
            copied = sorted(copied_ranges(model, level))
            if model in known:
                assert copied == real, (model, level)
            else:
                assert set(real) <= set(copied), (model, level)
