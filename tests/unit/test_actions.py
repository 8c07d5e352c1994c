"""Actions run `sungrow-sim ctl` by Pebble exec and return its JSON as results."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ops import testing
from support.charm import CTL, container, ctl_exec, inverter_entry, whole_state_exec

from charm import SungrowSimCharm

Ctx = testing.Context[SungrowSimCharm]

ENTRY = json.dumps(inverter_entry())
FAULT = {"id": "f1", "kind": "no-reply", "scope": "modbus", "code": None, "expires": None}


def run_action(
    ctx: Ctx, name: str, params: dict[str, Any] | None = None, *execs: testing.Exec
) -> list[str]:
    """Run the action against a ready container and return the ctl command it ran."""
    state = testing.State(containers={container(execs=set(execs))})
    ctx.run(ctx.on.action(name, params=params or {}), state)
    return ctx.exec_history["simulator"][-1].command


def failure(ctx: Ctx, name: str, params: dict[str, Any], state: testing.State) -> str:
    """Run an action that must fail and return its message."""
    with pytest.raises(testing.ActionFailed) as failed:
        ctx.run(ctx.on.action(name, params=params), state)
    return failed.value.message


def test_get_readings_returns_identity_readings_and_ports_as_hyphenated_keys(ctx: Ctx):
    command = run_action(ctx, "get-readings")

    assert command == ["sungrow-sim", "ctl", "--url", "http://127.0.0.1:8090", "state"]
    results = ctx.action_results
    assert results is not None
    assert results["model"] == "SH10RT"
    assert results["device-code"] == "3587"
    assert results["serial"] == "SIM0000000"
    assert results["readings"]["active-power-w"] == "3200"
    assert results["readings"]["battery-soc-pct"] == "50.0"
    assert results["protocols"]["http"]["ws-port"] == "8082"
    assert results["version"] == "0.1.0"


def test_get_readings_returns_the_live_power_of_the_configured_unit_id(ctx: Ctx):
    other = inverter_entry(unit_id=1, readings={"active_power_w": 9000})
    own = inverter_entry(unit_id=2, readings={"active_power_w": 2500})
    answer = json.dumps({"version": "0.1.0", "protocols": {}, "inverters": [other, own]})
    state = testing.State(
        containers={container(execs={whole_state_exec(answer)})}, config={"unit-id": 2}
    )

    ctx.run(ctx.on.action("get-readings"), state)

    assert ctx.action_results is not None
    assert ctx.action_results["unit-id"] == "2"
    assert ctx.action_results["readings"]["active-power-w"] == "2500"


def test_get_readings_leaves_out_readings_the_model_does_not_have(ctx: Ctx):
    string_model = inverter_entry(model="SG10RT", readings={"active_power_w": 5, "soc": None})
    answer = json.dumps({"version": "0.1.0", "protocols": {}, "inverters": [string_model]})

    run_action(ctx, "get-readings", None, whole_state_exec(answer))

    assert ctx.action_results is not None
    assert ctx.action_results["readings"] == {"active-power-w": "5"}


def test_get_readings_fails_with_ctl_stderr_when_the_control_api_does_not_answer(ctx: Ctx):
    refused = testing.Exec(
        ["sungrow-sim", "ctl", "--url", "http://127.0.0.1:8090", "state"],
        stderr="error: cannot reach http://127.0.0.1:8090: connection refused\n",
        return_code=1,
    )
    state = testing.State(containers={container(execs={refused})})

    message = failure(ctx, "get-readings", {}, state)

    assert message == (
        "sungrow-sim ctl state failed: error: cannot reach http://127.0.0.1:8090: connection refused"
    )


def test_get_readings_fails_clearly_on_an_unexpected_answer(ctx: Ctx):
    state = testing.State(containers={container(execs={whole_state_exec("{}")})})

    message = failure(ctx, "get-readings", {}, state)

    assert message == "unexpected answer from sungrow-sim ctl state: missing 'version'"


@pytest.mark.parametrize(
    ("params", "args"),
    [({"watts": 2500}, ["set-power", "2500"]), ({"auto": True}, ["set-power", "auto"])],
)
def test_set_power_runs_ctl_set_power(ctx: Ctx, params: dict[str, Any], args: list[str]):
    command = run_action(ctx, "set-power", params, ctl_exec(args[0], stdout=ENTRY))

    assert command == [*CTL, *args]
    assert ctx.action_results is not None
    assert ctx.action_results["model"] == "SH10RT"


@pytest.mark.parametrize(
    "params", [{}, {"watts": 100, "auto": True}, {"auto": False}], ids=["none", "both", "off"]
)
def test_set_power_needs_exactly_one_of_watts_or_auto(ctx: Ctx, params: dict[str, Any]):
    state = testing.State(containers={container()})

    message = failure(ctx, "set-power", params, state)

    assert message == "Error in action parameters: give exactly one of watts=N or auto=true"


def test_set_power_rejects_negative_watts(ctx: Ctx):
    message = failure(ctx, "set-power", {"watts": -1}, testing.State(containers={container()}))

    assert message.startswith("Error in action parameters: watts: ")


def test_set_load_runs_ctl_set_load(ctx: Ctx):
    command = run_action(ctx, "set-load", {"watts": 750.5}, ctl_exec("set-load", stdout=ENTRY))

    assert command == [*CTL, "set-load", "750.5"]


def test_set_state_runs_ctl_set_state(ctx: Ctx):
    command = run_action(ctx, "set-state", {"state": "stop"}, ctl_exec("set-state", stdout=ENTRY))

    assert command == [*CTL, "set-state", "stop"]


def test_set_state_rejects_an_unknown_state(ctx: Ctx):
    state = testing.State(containers={container()})

    message = failure(ctx, "set-state", {"state": "sleep"}, state)

    assert message.startswith("Error in action parameters: state: ")


def test_set_battery_passes_soc_and_power(ctx: Ctx):
    params = {"soc": 80, "power": -2000}

    command = run_action(ctx, "set-battery", params, ctl_exec("set-battery", stdout=ENTRY))

    assert command == [*CTL, "set-battery", "--soc", "80", "--power", "-2000"]


def test_set_battery_auto_returns_power_to_auto(ctx: Ctx):
    params = {"auto": True}

    command = run_action(ctx, "set-battery", params, ctl_exec("set-battery", stdout=ENTRY))

    assert command == [*CTL, "set-battery", "--power", "auto"]


def test_set_battery_needs_something_to_set(ctx: Ctx):
    message = failure(ctx, "set-battery", {}, testing.State(containers={container()}))

    assert message == "Error in action parameters: give soc=PCT, power=W or auto=true"


def test_set_battery_rejects_power_with_auto(ctx: Ctx):
    state = testing.State(containers={container()})

    message = failure(ctx, "set-battery", {"power": 10, "auto": True}, state)

    assert message == "Error in action parameters: give power=W or auto=true, not both"


def test_set_battery_rejects_a_soc_above_100(ctx: Ctx):
    message = failure(ctx, "set-battery", {"soc": 101}, testing.State(containers={container()}))

    assert message.startswith("Error in action parameters: soc: ")


def test_set_clock_runs_ctl_set_clock(ctx: Ctx):
    params = {"time": "2026-06-21T12:00:00"}

    command = run_action(ctx, "set-clock", params, ctl_exec("set-clock", stdout=ENTRY))

    assert command == [*CTL, "set-clock", "2026-06-21T12:00:00"]


def test_set_clock_rejects_an_empty_time(ctx: Ctx):
    message = failure(ctx, "set-clock", {"time": ""}, testing.State(containers={container()}))

    assert message.startswith("Error in action parameters: time: ")


def test_inject_fault_passes_every_given_option_as_a_flag(ctx: Ctx):
    params = {
        "kind": "exception",
        "duration": 30,
        "scope": "modbus",
        "probability": 0.5,
        "code": 2,
        "start": 4999,
        "count": 10,
        "delay": 1.5,
        "max-sessions": 1,
    }

    command = run_action(
        ctx, "inject-fault", params, ctl_exec("inject-fault", stdout=json.dumps(FAULT))
    )

    assert command == [
        *CTL,
        *("inject-fault", "exception", "--duration", "30", "--scope", "modbus"),
        *("--probability", "0.5", "--code", "2", "--start", "4999", "--count", "10"),
        *("--delay", "1.5", "--max-sessions", "1"),
    ]


def test_inject_fault_returns_the_fault_with_its_id(ctx: Ctx):
    answer = ctl_exec("inject-fault", stdout=json.dumps(FAULT))

    run_action(ctx, "inject-fault", {"kind": "no-reply", "scope": "modbus"}, answer)

    assert ctx.action_results == {"id": "f1", "kind": "no-reply", "scope": "modbus"}


def test_inject_fault_rejects_an_unknown_kind(ctx: Ctx):
    state = testing.State(containers={container()})

    message = failure(ctx, "inject-fault", {"kind": "meteor"}, state)

    assert message.startswith("Error in action parameters: kind: ")


def test_inject_fault_rejects_a_probability_above_one(ctx: Ctx):
    params = {"kind": "no-reply", "probability": 1.5}

    message = failure(ctx, "inject-fault", params, testing.State(containers={container()}))

    assert message.startswith("Error in action parameters: probability: ")


def test_list_faults_returns_the_faults_keyed_by_id(ctx: Ctx):
    answer = ctl_exec("faults", stdout=json.dumps([FAULT, {**FAULT, "id": "f2"}]))

    command = run_action(ctx, "list-faults", None, answer)

    assert command == [*CTL, "faults"]
    assert ctx.action_results is not None
    assert ctx.action_results["count"] == "2"
    assert ctx.action_results["faults"]["f2"]["kind"] == "no-reply"


def test_clear_faults_without_a_kind_clears_all(ctx: Ctx):
    command = run_action(ctx, "clear-faults", None, ctl_exec("clear-faults", stdout="[]"))

    assert command == [*CTL, "clear-faults"]
    assert ctx.action_results == {"faults": {}, "count": "0"}


def test_clear_faults_with_a_kind_clears_that_kind(ctx: Ctx):
    params = {"kind": "grid-loss"}

    command = run_action(ctx, "clear-faults", params, ctl_exec("clear-faults", stdout="[]"))

    assert command == [*CTL, "clear-faults", "grid-loss"]


def test_an_action_fails_with_ctl_stderr_when_ctl_fails(ctx: Ctx):
    refused = ctl_exec("set-state", stderr="error: set-state: unit 1 is in fault\n", code=1)
    state = testing.State(containers={container(execs={refused})})

    message = failure(ctx, "set-state", {"state": "run"}, state)

    assert message == "sungrow-sim ctl set-state failed: error: set-state: unit 1 is in fault"


def test_an_action_fails_with_the_exit_code_when_ctl_prints_nothing(ctx: Ctx):
    state = testing.State(containers={container(execs={ctl_exec("faults", code=2)})})

    message = failure(ctx, "list-faults", {}, state)

    assert message == "sungrow-sim ctl faults failed: exit code 2"


def test_an_action_fails_when_ctl_prints_no_json(ctx: Ctx):
    state = testing.State(containers={container(execs={ctl_exec("faults", stdout="oops")})})

    message = failure(ctx, "list-faults", {}, state)

    assert message == "sungrow-sim ctl faults printed no JSON: 'oops'"


def test_an_action_fails_when_the_container_is_down(ctx: Ctx):
    state = testing.State(containers={container(can_connect=False)})

    message = failure(ctx, "set-power", {"watts": 1}, state)

    assert message == "the simulator container is not reachable yet; try again later"


def test_an_action_fails_while_the_config_is_invalid(ctx: Ctx):
    state = testing.State(containers={container()}, config={"model": "XYZ"})

    message = failure(ctx, "get-readings", {}, state)

    assert message == "the charm's config is invalid; fix it first (see juju status)"


def test_actions_address_the_configured_unit_id(ctx: Ctx):
    answer = testing.Exec(["sungrow-sim", "ctl"], stdout=ENTRY)
    state = testing.State(containers={container(execs={answer})}, config={"unit-id": 7})

    ctx.run(ctx.on.action("set-state", params={"state": "run"}), state)

    command = ctx.exec_history["simulator"][-1].command
    assert command[4:7] == ["--unit-id", "7", "set-state"]


def test_actions_time_out_after_thirty_seconds(ctx: Ctx):
    run_action(ctx, "set-state", {"state": "run"}, ctl_exec("set-state", stdout=ENTRY))

    assert ctx.exec_history["simulator"][-1].timeout == 30.0
