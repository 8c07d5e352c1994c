"""Every config option: an invalid value blocks the charm, naming the option and why."""

from __future__ import annotations

import dataclasses

import pytest
from ops import pebble, testing
from support.charm import container

from charm import SungrowSimCharm
from layer import SERVICE_NAME

Ctx = testing.Context[SungrowSimCharm]

INVALID = [
    ("model", "XYZ", "model: unknown model 'XYZ'"),
    ("serial", "SIM 0001", "serial: 'SIM 0001' is not up to 20 ASCII letters and digits"),
    ("serial", "S" * 21, "serial: "),
    ("unit-id", 0, "unit-id: "),
    ("unit-id", 247, "unit-id: "),
    ("protocols", "modbus,mqtt", "protocols: unknown protocol 'mqtt'"),
    ("protocols", " , ", "protocols: enable at least one of modbus, sungrow, http"),
    ("modbus-port", 0, "modbus-port: "),
    ("modbus-port", 65536, "modbus-port: "),
    ("modbus-port", 8090, "modbus-port: port 8090 is already used by the control API"),
    ("ws-port", 8091, "ws-port: port 8091 is already used by the metrics endpoint"),
    ("ws-port", 80, "http-port: port 80 is already used by ws-port"),
    ("ws-port", 70000, "ws-port: "),
    ("http-port", 502, "http-port: port 502 is already used by modbus-port"),
    ("http-port", -1, "http-port: "),
    ("seed", -1, "seed: "),
    ("time-scale", 0.0, "time-scale: "),
    ("time-scale", 3601.0, "time-scale: "),
    ("latitude", 90.5, "latitude: "),
    ("longitude", -180.5, "longitude: "),
    ("timezone", "Mars/Olympus_Mons", "timezone: unknown time zone 'Mars/Olympus_Mons'"),
    ("array-kwp", -1.0, "array-kwp: "),
    ("battery-kwh", 0.0, "battery-kwh: "),
    ("battery-kwh", 1000.5, "battery-kwh: "),
    ("log-level", "loud", "log-level: unknown log level 'loud'"),
]


@pytest.mark.parametrize(
    ("option", "value", "reason"), INVALID, ids=[f"{o}={v!r}" for o, v, _ in INVALID]
)
def test_an_invalid_option_blocks_the_charm_naming_the_option_and_why(
    ctx: Ctx, option: str, value: str | int | float, reason: str
):
    state = testing.State(containers={container()}, config={option: value})

    out = ctx.run(ctx.on.config_changed(), state)

    assert isinstance(out.unit_status, testing.BlockedStatus)
    assert out.unit_status.message.startswith(f"invalid config: {reason}")


def test_port_clashes_between_disabled_protocols_are_allowed(ctx: Ctx):
    state = testing.State(containers={container()}, config={"protocols": "modbus", "ws-port": 502})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status == testing.ActiveStatus("SG10RT modbus")


def test_two_invalid_options_are_both_named(ctx: Ctx):
    state = testing.State(containers={container()}, config={"model": "XYZ", "seed": -5})

    out = ctx.run(ctx.on.config_changed(), state)

    assert out.unit_status.message.startswith("invalid config: model: unknown model 'XYZ'")
    assert "; seed: " in out.unit_status.message


def test_model_names_are_matched_without_regard_to_case(ctx: Ctx):
    state = testing.State(containers={container()}, config={"model": "sg5.0rs"})

    out = ctx.run(ctx.on.config_changed(), state)

    command = out.get_container("simulator").plan.services[SERVICE_NAME].command
    assert "--model SG5.0RS " in command


def test_invalid_config_leaves_the_running_service_untouched(ctx: Ctx):
    first = ctx.run(ctx.on.pebble_ready(container()), testing.State(containers={container()}))
    running = first.get_container("simulator")

    out = ctx.run(ctx.on.config_changed(), dataclasses.replace(first, config={"model": "XYZ"}))

    simulator = out.get_container("simulator")
    assert simulator.plan == running.plan
    assert simulator.service_statuses[SERVICE_NAME] == pebble.ServiceStatus.ACTIVE


def test_invalid_config_does_not_publish_relation_data(ctx: Ctx):
    relation = testing.Relation("inverter")
    state = testing.State(containers={container()}, relations={relation}, config={"seed": -1})

    out = ctx.run(ctx.on.relation_joined(relation, remote_unit=0), state)

    assert "model" not in out.get_relation(relation.id).local_unit_data


def test_fixing_the_config_unblocks_the_charm(ctx: Ctx):
    blocked = ctx.run(
        ctx.on.config_changed(),
        testing.State(containers={container()}, config={"log-level": "loud"}),
    )

    out = ctx.run(
        ctx.on.config_changed(), dataclasses.replace(blocked, config={"log-level": "debug"})
    )

    assert out.unit_status == testing.ActiveStatus("SG10RT modbus+sungrow+http")
