"""Parsing of the simulator charm's action results into typed state."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from ops import testing
from sungrow_sim_k8s_testing import (
    Fault,
    InverterState,
    ResultsError,
    SimulatorState,
    parse_faults,
)
from sungrow_sim_k8s_testing.state import scalar

from charm import SungrowSimCharm
from simulator_ctl import to_results

# `sungrow-sim ctl state` as the team brief specifies it (one hybrid inverter).
CTL_STATE: dict[str, Any] = {
    "version": "0.1.0",
    "protocols": {
        "modbus": {"port": 502},
        "sungrow": {"port": 502},
        "http": {"ws_port": 8082, "http_port": 80},
    },
    "inverters": [
        {
            "unit_id": 1,
            "model": "SH10RT",
            "device_code": 3587,
            "family": "hybrid",
            "serial": "SIM0000001",
            "nominal_power_w": 10000,
            "clock": "2026-11-21T12:00:00",
            "readings": {
                "work_state": "run",
                "pv_power_w": 5000,
                "active_power_w": 4800,
                "daily_yield_kwh": 12.3,
                "total_yield_kwh": 1234.5,
                "load_power_w": 800,
                "battery_power_w": 0,
                "battery_soc_pct": 50.0,
                "grid_power_w": 4000,
                "internal_temperature_c": 35.2,
            },
            "overrides": {"power_w": None, "state": None, "load_w": None, "battery_power_w": None},
            "faults": [
                {"id": "f1", "kind": "inverter-fault", "scope": "all", "code": 2, "expires": None}
            ],
        }
    ],
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("42", 42),
        ("-7", -7),
        ("35.2", 35.2),
        ("1e3", 1000.0),
        ("run", "run"),
        ("SIM0000001", "SIM0000001"),
        ("2026-11-21T12:00:00", "2026-11-21T12:00:00"),
    ],
)
def test_scalar_restores_the_type_of_a_result_string(text: str, value: object):
    assert scalar(text) == value
    assert type(scalar(text)) is type(value)


def test_scalar_rejects_a_non_string():
    with pytest.raises(ResultsError, match="string"):
        scalar(3)


def charm_action_results(action: str, ctl_answer: Any, params: dict[str, Any] | None = None):
    """Run the simulator charm's action (ops.testing) with `ctl` printing `ctl_answer`."""
    ctx = testing.Context(SungrowSimCharm)
    container = testing.Container(
        "simulator",
        can_connect=True,
        execs={
            testing.Exec(["sungrow-sim", "ctl"], stdout=json.dumps(ctl_answer)),
            testing.Exec(["sungrow-sim", "--version"], stdout="sungrow-sim 0.1.0\n"),
        },
    )
    ctx.run(ctx.on.action(action, params=params or {}), testing.State(containers={container}))
    assert ctx.action_results is not None
    return ctx.action_results


def test_the_charms_get_readings_results_parse_back_to_the_ctl_values():
    state = SimulatorState.from_results(charm_action_results("get-readings", CTL_STATE))

    assert state.version == "0.1.0"
    assert state.ports == {"modbus": 502, "sungrow": 502, "ws": 8082, "http": 80}
    inverter = state.inverter()
    source = CTL_STATE["inverters"][0]
    assert (inverter.unit_id, inverter.model, inverter.device_code, inverter.serial) == (
        1, "SH10RT", 3587, "SIM0000001",
    )  # fmt: skip
    assert inverter.family == "hybrid"
    assert inverter.nominal_power_w == 10000
    assert {name: inverter.reading(name) for name in source["readings"]} == source["readings"]
    assert inverter.overrides == {}
    assert inverter.faults == (Fault("f1", "inverter-fault", "all", {"code": 2}),)


def test_the_charms_set_power_results_parse_to_the_inverter():
    entry = dict(CTL_STATE["inverters"][0], overrides={"power_w": 2500, "state": None})

    inverter = InverterState.from_results(
        charm_action_results("set-power", entry, {"watts": 2500})
    )

    assert inverter.overrides == {"power-w": 2500}
    assert inverter.reading("pv_power_w") == 5000


def test_the_charms_inject_fault_and_list_faults_results_parse_to_faults():
    fault = {"id": "f2", "kind": "no-reply", "scope": "modbus", "code": None, "expires": None}

    injected = parse_faults(charm_action_results("inject-fault", fault, {"kind": "no-reply"}))
    listed = parse_faults(charm_action_results("list-faults", [fault, dict(fault, id="f3")]))

    assert injected == [Fault("f2", "no-reply", "modbus")]
    assert [f.id for f in listed] == ["f2", "f3"]


def test_a_whole_ctl_state_parses_too():
    state = SimulatorState.from_results(to_results(CTL_STATE))

    assert [i.serial for i in state.inverters] == ["SIM0000001"]


def test_several_inverters_keep_their_order_past_nine():
    many = copy.deepcopy(CTL_STATE)
    template = many["inverters"][0]
    many["inverters"] = [dict(template, unit_id=n, faults=[]) for n in range(1, 13)]

    state = SimulatorState.from_results(to_results(many))

    assert [i.unit_id for i in state.inverters] == list(range(1, 13))
    with pytest.raises(ResultsError, match="pass unit_id"):
        state.inverter()
    with pytest.raises(ResultsError, match="no inverter with unit id 99"):
        state.inverter(99)


def test_results_without_an_inverter_are_reported_clearly():
    with pytest.raises(ResultsError, match="no inverter"):
        SimulatorState.from_results({"version": "0.1.0"})


def test_an_inverter_without_its_identity_is_reported_clearly():
    broken = to_results(CTL_STATE)
    del broken["inverters"]["0"]["device-code"]

    with pytest.raises(ResultsError, match="no 'device-code'"):
        SimulatorState.from_results(broken)


def test_unknown_reading_names_list_the_known_ones():
    inverter = SimulatorState.from_results(to_results(CTL_STATE)).inverter()

    with pytest.raises(KeyError, match="pv-power-w"):
        inverter.reading("pv_power_kw")


def test_parse_faults_reads_a_single_fault():
    results = to_results({"id": "f7", "kind": "slow-reply", "scope": "http", "delay": 2.5})

    assert parse_faults(results) == [Fault("f7", "slow-reply", "http", {"delay": 2.5})]


def test_parse_faults_reads_the_faults_of_an_inverter_entry():
    results = to_results(CTL_STATE["inverters"][0])

    assert [f.id for f in parse_faults(results)] == ["f1"]


def test_parse_faults_of_an_empty_list_is_empty():
    assert parse_faults(to_results([], "faults")) == []
