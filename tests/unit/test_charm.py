"""The charm's lifecycle: Pebble layer, replans, ports, version and status."""

from __future__ import annotations

from typing import Any

import pytest
from ops import pebble, testing
from support.charm import container, ctl_exec

from charm import SungrowSimCharm
from config import Config
from layer import SERVICE_NAME, make_layer

Ctx = testing.Context[SungrowSimCharm]

DEFAULT_COMMAND = (
    "sungrow-sim serve --model SG10RT --serial SIM0000000 --unit-id 1 --bind 0.0.0.0"
    " --protocols modbus,sungrow,http --modbus-port 502 --ws-port 8082 --http-port 80"
    " --control-bind 127.0.0.1 --control-port 8090 --state-dir /var/lib/sungrow-sim"
    " --seed 0 --time-scale 1.0 --latitude 48.14 --longitude 11.58 --timezone UTC"
    " --battery-kwh 10.0 --log-level info --metrics-bind 0.0.0.0 --metrics-port 8091"
)


def running_layer(**config: Any) -> dict[str, pebble.Layer]:
    """The layer the charm would have added for this config, as a container's layers."""
    return {SERVICE_NAME: make_layer(Config(**config), "SIM0000000")}


def test_pebble_ready_adds_the_exact_layer_and_starts_the_service(ctx: Ctx):
    state = testing.State(containers={container()})

    out = ctx.run(ctx.on.pebble_ready(container()), state)

    simulator = out.get_container("simulator")
    assert simulator.plan.to_dict() == {
        "services": {
            "sungrow-sim": {
                "override": "replace",
                "summary": "simulated Sungrow inverter",
                "command": DEFAULT_COMMAND,
                "startup": "enabled",
                "environment": {"PYTHONUNBUFFERED": "1"},
                "on-check-failure": {"ready": "restart"},
            }
        },
        "checks": {
            "ready": {
                "override": "replace",
                "level": "ready",
                "period": "10s",
                "timeout": "3s",
                "threshold": 3,
                "http": {"url": "http://127.0.0.1:8090/v1/health"},
            },
        },
    }
    assert simulator.service_statuses[SERVICE_NAME] == pebble.ServiceStatus.ACTIVE


def test_pebble_ready_reports_active_with_model_and_protocols(ctx: Ctx):
    out = ctx.run(ctx.on.pebble_ready(container()), testing.State(containers={container()}))

    assert out.unit_status == testing.ActiveStatus("SG10RT modbus+sungrow+http")


def test_pebble_ready_sets_the_workload_version_from_the_simulator(ctx: Ctx):
    out = ctx.run(ctx.on.pebble_ready(container()), testing.State(containers={container()}))

    assert out.workload_version == "0.1.0"


def test_pebble_ready_opens_the_ports_of_the_enabled_protocols(ctx: Ctx):
    out = ctx.run(ctx.on.pebble_ready(container()), testing.State(containers={container()}))

    assert out.opened_ports == {testing.TCPPort(502), testing.TCPPort(8082), testing.TCPPort(80)}


def test_only_modbus_opens_only_the_modbus_port(ctx: Ctx):
    state = testing.State(containers={container()}, config={"protocols": "modbus"})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.opened_ports == {testing.TCPPort(502)}


@pytest.mark.parametrize("protocols", ["modbus", "http", "modbus,sungrow,http"])
def test_no_protocol_set_gets_an_alive_level_check(ctx: Ctx, protocols: str):
    state = testing.State(containers={container()}, config={"protocols": protocols})

    out = ctx.run(ctx.on.config_changed(), state)

    checks = out.get_container("simulator").plan.checks
    assert [name for name, c in checks.items() if c.level == pebble.CheckLevel.ALIVE] == []
    assert checks["ready"].http == {"url": "http://127.0.0.1:8090/v1/health"}


def test_config_changed_puts_every_option_into_the_command(ctx: Ctx):
    config = {
        "model": "sh10rt",
        "serial": "ABC123",
        "unit-id": 3,
        "protocols": "http,modbus",
        "modbus-port": 1502,
        "ws-port": 18082,
        "http-port": 8080,
        "seed": 7,
        "time-scale": 60.0,
        "latitude": -33.9,
        "longitude": 151.2,
        "timezone": "Australia/Sydney",
        "array-kwp": 12.5,
        "battery-kwh": 9.6,
        "log-level": "DEBUG",
    }
    state = testing.State(containers={container()}, config=config)

    out = ctx.run(ctx.on.config_changed(), state)

    command = out.get_container("simulator").plan.services[SERVICE_NAME].command
    assert command == (
        "sungrow-sim serve --model SH10RT --serial ABC123 --unit-id 3 --bind 0.0.0.0"
        " --protocols modbus,http --modbus-port 1502 --ws-port 18082 --http-port 8080"
        " --control-bind 127.0.0.1 --control-port 8090 --state-dir /var/lib/sungrow-sim"
        " --seed 7 --time-scale 60.0 --latitude -33.9 --longitude 151.2"
        " --timezone Australia/Sydney --battery-kwh 9.6 --log-level debug"
        " --metrics-bind 0.0.0.0 --metrics-port 8091 --array-kwp 12.5"
    )


def test_the_default_serial_is_derived_from_the_unit_number():
    ctx = testing.Context(SungrowSimCharm, unit_id=12)

    out = ctx.run(ctx.on.config_changed(), testing.State(containers={container()}))

    command = out.get_container("simulator").plan.services[SERVICE_NAME].command
    assert "--serial SIM0000012 " in command


def test_config_changed_replans_when_the_layer_changed(ctx: Ctx):
    stopped = container(
        layers=running_layer(),
        service_statuses={SERVICE_NAME: pebble.ServiceStatus.INACTIVE},
    )
    state = testing.State(containers={stopped}, config={"seed": 42})

    out = ctx.run(ctx.on.config_changed(), state)

    simulator = out.get_container("simulator")
    assert "--seed 42 " in simulator.plan.services[SERVICE_NAME].command
    assert simulator.service_statuses[SERVICE_NAME] == pebble.ServiceStatus.ACTIVE


def test_config_changed_does_not_replan_when_the_layer_is_unchanged(ctx: Ctx):
    # A stopped service stays stopped: no replan happened.
    stopped = container(
        layers=running_layer(),
        service_statuses={SERVICE_NAME: pebble.ServiceStatus.INACTIVE},
    )

    out = ctx.run(ctx.on.config_changed(), testing.State(containers={stopped}))

    simulator = out.get_container("simulator")
    assert simulator.service_statuses[SERVICE_NAME] == pebble.ServiceStatus.INACTIVE
    assert simulator.layers == stopped.layers


def test_upgrade_charm_applies_the_layer(ctx: Ctx):
    out = ctx.run(ctx.on.upgrade_charm(), testing.State(containers={container()}))

    simulator = out.get_container("simulator")
    assert simulator.plan.services[SERVICE_NAME].command == DEFAULT_COMMAND
    assert simulator.service_statuses[SERVICE_NAME] == pebble.ServiceStatus.ACTIVE


@pytest.mark.parametrize("leader", [True, False])
def test_leader_elected_configures_the_unit_whether_leader_or_not(ctx: Ctx, leader: bool):
    state = testing.State(containers={container()}, leader=leader)

    out = ctx.run(ctx.on.leader_elected(), state)

    assert out.get_container("simulator").plan.services[SERVICE_NAME].command == DEFAULT_COMMAND
    assert out.unit_status == testing.ActiveStatus("SG10RT modbus+sungrow+http")


def test_config_changed_without_pebble_waits_for_the_container(ctx: Ctx):
    state = testing.State(containers={container(can_connect=False)})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.WaitingStatus("waiting for the simulator container")
    assert out.get_container("simulator").layers == {}


def test_config_changed_without_pebble_still_opens_ports(ctx: Ctx):
    state = testing.State(containers={container(can_connect=False)})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.opened_ports == {testing.TCPPort(502), testing.TCPPort(8082), testing.TCPPort(80)}


def test_status_is_maintenance_before_the_layer_exists(ctx: Ctx):
    out = ctx.run(ctx.on.update_status(), testing.State(containers={container()}))

    assert out.unit_status == testing.MaintenanceStatus("configuring the simulator service")


def test_status_is_maintenance_while_the_service_is_not_running(ctx: Ctx):
    stopped = container(
        layers=running_layer(),
        service_statuses={SERVICE_NAME: pebble.ServiceStatus.INACTIVE},
    )

    out = ctx.run(ctx.on.update_status(), testing.State(containers={stopped}))

    assert out.unit_status == testing.MaintenanceStatus("starting the simulator")


def test_status_is_maintenance_while_the_ready_check_is_down(ctx: Ctx):
    down = testing.CheckInfo(
        "ready", level=pebble.CheckLevel.READY, status=pebble.CheckStatus.DOWN, failures=3
    )
    starting = container(
        layers=running_layer(),
        service_statuses={SERVICE_NAME: pebble.ServiceStatus.ACTIVE},
        check_infos=frozenset({down}),
    )

    out = ctx.run(ctx.on.update_status(), testing.State(containers={starting}))

    assert out.unit_status == testing.MaintenanceStatus(
        "simulator not ready: check 'ready' failing, Pebble restarts it"
    )


def test_status_asks_pebble_only_and_runs_no_command_in_the_workload(ctx: Ctx):
    up = testing.CheckInfo(
        "ready", level=pebble.CheckLevel.READY, status=pebble.CheckStatus.UP, successes=1
    )
    running = container(
        layers=running_layer(),
        service_statuses={SERVICE_NAME: pebble.ServiceStatus.ACTIVE},
        check_infos=frozenset({up}),
    )

    out = ctx.run(ctx.on.update_status(), testing.State(containers={running}))

    assert out.unit_status == testing.ActiveStatus("SG10RT modbus+sungrow+http")
    assert ctx.exec_history.get("simulator", []) == []


def test_status_stays_active_when_the_control_api_would_not_answer(ctx: Ctx):
    broken = container(execs={ctl_exec("state", stderr="connection refused\n", code=1)})

    out = ctx.run(ctx.on.pebble_ready(broken), testing.State(containers={broken}))

    assert out.unit_status == testing.ActiveStatus("SG10RT modbus+sungrow+http")
    assert [e.command[:2] for e in ctx.exec_history["simulator"]] == [["sungrow-sim", "--version"]]


def test_status_names_the_enabled_protocols_in_a_fixed_order(ctx: Ctx):
    state = testing.State(containers={container()}, config={"protocols": "http,modbus"})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus("SG10RT modbus+http")


def test_a_missing_version_binary_does_not_break_the_hook(ctx: Ctx):
    no_version = container(
        execs={testing.Exec(["sungrow-sim", "--version"], return_code=127, stderr="not found")}
    )

    out = ctx.run(ctx.on.pebble_ready(no_version), testing.State(containers={no_version}))

    assert out.workload_version == ""
    assert isinstance(out.unit_status, testing.ActiveStatus)
