"""The integration tester charm, run in ops.testing against a real simulator.

The tester gets its inverter through the interface library's requirer (a relation made
with the library's own `relation_for_testing`), and its read-registers action opens real
connections to a simulator subprocess. What the integration suite relies on, without a
controller: the library parses the databag into host and ports, and the action reads
through them over every protocol, failing with the device's error when it misbehaves.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from charms.sungrow_sim_k8s.v0.inverter import InverterUnitData, relation_for_testing
from ops import testing
from support.simproc import SimProcess, launch, serve_command

TESTER = Path(__file__).resolve().parents[1] / "integration" / "tester"


def load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


load("protocols", TESTER / "src" / "protocols.py")  # the tester charm's `import protocols`
tester_charm = load("tester_charm", TESTER / "src" / "charm.py")
PROJECT = yaml.safe_load((TESTER / "charmcraft.yaml").read_text())


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    args = ("--model", "SG10RT", "--serial", "SIMCHARM01", "--start-time", "2026-06-21T12:00:00")
    process = launch(serve_command(*args), tmp_path_factory.mktemp("sim"))
    try:
        yield process
    finally:
        process.stop()


def relation_to(sim: SimProcess, unit: int = 0) -> testing.Relation:
    data = InverterUnitData.model_validate(
        {
            "host": "127.0.0.1",
            "modbus-port": sim.ports["modbus_port"],
            "ws-port": sim.ports["ws_port"],
            "http-port": sim.ports["http_port"],
            "protocols": "modbus,sungrow,http",
            "model": "SG10RT",
            "device-code": 0x2433,
            "serial": "SIMCHARM01",
            "unit-id": 1,
        }
    )
    return relation_for_testing({unit: data})


def run_action(sim: SimProcess, name: str, params: dict[str, Any] | None = None):
    ctx = testing.Context(
        tester_charm.TesterCharm,
        meta={"name": PROJECT["name"], "requires": PROJECT["requires"]},
        actions=PROJECT["actions"],
    )
    state = testing.State(relations={relation_to(sim)})
    ctx.run(ctx.on.action(name, params=params or {}), state)
    assert ctx.action_results is not None
    return ctx.action_results


def test_relation_data_lists_the_inverter_the_library_parsed(sim: SimProcess):
    results = run_action(sim, "relation-data")

    (inverter,) = json.loads(results["inverters"])
    assert results["count"] == 1
    assert inverter["unit_name"] == "sungrow-sim-k8s/0"
    assert inverter["host"] == "127.0.0.1"
    assert inverter["ports"] == {
        "modbus": sim.ports["modbus_port"],
        "sungrow": sim.ports["modbus_port"],
        "http": sim.ports["http_port"],
        "ws": sim.ports["ws_port"],
    }
    assert (inverter["serial"], inverter["device_code"]) == ("SIMCHARM01", 0x2433)


@pytest.mark.parametrize("protocol", ["modbus", "sungrow", "http"])
@pytest.mark.timeout(60)
def test_read_registers_reads_the_simulator_over_each_protocol(sim: SimProcess, protocol: str):
    results = run_action(sim, "read-registers", {"protocol": protocol, "address": 4999})

    assert json.loads(results["registers"]) == [sim.inverter()["device_code"]]
    assert results["unit"] == "sungrow-sim-k8s/0"


@pytest.mark.timeout(60)
def test_read_registers_fails_with_the_devices_exception(sim: SimProcess):
    fault = sim.ctl("inject-fault", "exception", "--code", "2", "--scope", "modbus")
    try:
        with pytest.raises(testing.ActionFailed) as failed:
            run_action(sim, "read-registers", {"protocol": "modbus"})
    finally:
        sim.ctl("clear-faults")

    assert fault["kind"] == "exception"
    assert "exception code 2" in failed.value.message


def test_read_registers_names_the_units_it_sees_when_the_unit_is_unknown(sim: SimProcess):
    with pytest.raises(testing.ActionFailed) as failed:
        run_action(sim, "read-registers", {"protocol": "modbus", "unit": "sungrow-sim-k8s/5"})

    assert "sungrow-sim-k8s/0" in failed.value.message
