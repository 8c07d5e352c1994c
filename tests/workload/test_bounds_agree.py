"""The charm and the simulator agree on every bound of every option the charm passes.

Both sides' bounds are read from their pydantic models (src/config.py's Config and the
simulator's ServeConfig / InverterConfig): each charm range must lie inside the
simulator's, and any narrowing is listed below with its reason. Then the behaviour: the
charm's extreme accepted values, put through the charm's own layer command, are accepted
by the simulator's own command-line parsing; a value the simulator refuses blocks the
charm with a status naming the option.
"""

from __future__ import annotations

import argparse
import math
import shlex
from typing import Any

import annotated_types
import pydantic
import pytest
from ops import testing
from sungrow_sim import cli
from sungrow_sim import config as sim_config
from support.charm import container

from charm import SungrowSimCharm
from config import Config
from layer import serve_command

# charm field -> (simulator model, field)
PASSED = {
    "unit_id": (sim_config.InverterConfig, "unit_id"),
    "battery_kwh": (sim_config.InverterConfig, "battery_kwh"),
    "array_kwp": (sim_config.InverterConfig, "array_kwp"),
    "modbus_port": (sim_config.ServeConfig, "modbus_port"),
    "ws_port": (sim_config.ServeConfig, "ws_port"),
    "http_port": (sim_config.ServeConfig, "http_port"),
    "seed": (sim_config.ServeConfig, "seed"),
    "time_scale": (sim_config.ServeConfig, "time_scale"),
    "latitude": (sim_config.ServeConfig, "latitude"),
    "longitude": (sim_config.ServeConfig, "longitude"),
}
# Where the charm is deliberately stricter, and why.
NARROWED = {
    "modbus_port": "port 0 (OS-assigned) cannot be published to related charms",
    "ws_port": "port 0 (OS-assigned) cannot be published to related charms",
    "http_port": "port 0 (OS-assigned) cannot be published to related charms",
    "seed": "a Juju int option; negative seeds add nothing",
    "time_scale": "above 3600x a tick spans more than an hour of plant time",
    "battery_kwh": "a hybrid needs a battery; 0 kWh is refused in the charm",
}


def bounds(field: Any) -> tuple[float, bool, float, bool]:
    """(low, low inclusive, high, high inclusive) of a pydantic field; inf when open."""
    low, low_in, high, high_in = -math.inf, True, math.inf, True
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            low, low_in = float(item.ge), True  # pyright: ignore[reportArgumentType]
        elif isinstance(item, annotated_types.Gt):
            low, low_in = float(item.gt), False  # pyright: ignore[reportArgumentType]
        elif isinstance(item, annotated_types.Le):
            high, high_in = float(item.le), True  # pyright: ignore[reportArgumentType]
        elif isinstance(item, annotated_types.Lt):
            high, high_in = float(item.lt), False  # pyright: ignore[reportArgumentType]
    return low, low_in, high, high_in


def inside(inner: tuple, outer: tuple) -> bool:
    lo, lo_in, hi, hi_in = inner
    olo, olo_in, ohi, ohi_in = outer
    low_ok = lo > olo or (lo == olo and (olo_in or not lo_in))
    high_ok = hi < ohi or (hi == ohi and (ohi_in or not hi_in))
    return low_ok and high_ok


def test_every_option_passed_is_mapped():
    """Every bounded charm option is in PASSED (a new option needs its pair here)."""
    bounded = {n for n, f in Config.model_fields.items() if bounds(f) != bounds(pydantic.Field())}
    assert bounded == set(PASSED)


def charm_bounds(name: str) -> tuple[float, bool, float, bool]:
    """The charm's range of the values it passes (array-kwp 0 is not passed: the default)."""
    low, low_in, high, high_in = bounds(Config.model_fields[name])
    if name == "array_kwp" and low == 0:
        low_in = False
    return low, low_in, high, high_in


@pytest.mark.parametrize("name", sorted(PASSED))
def test_the_charm_range_lies_inside_the_simulators(name):
    model, field = PASSED[name]
    charm, sim = charm_bounds(name), bounds(model.model_fields[field])
    assert inside(charm, sim), f"{name}: charm {charm} is not inside the simulator's {sim}"
    if charm != sim:
        assert name in NARROWED, f"{name}: charm {charm} != simulator {sim}, and no reason"
    else:
        assert name not in NARROWED, f"{name}: listed as narrowed but the ranges are equal"


def _extremes(name: str) -> list[float]:
    lo, lo_in, hi, hi_in = charm_bounds(name)
    if math.isinf(hi):
        hi, hi_in = 2**31 - 1, True  # a Juju int's largest value
    step = 1 if Config.model_fields[name].annotation is int else 1e-3
    return [lo if lo_in else lo + step, hi if hi_in else hi - step]


def _simulator_accepts(command: str) -> None:
    """Parse `command` with the simulator's own CLI parsing and validation."""
    parser = argparse.ArgumentParser(prog="sungrow-sim")
    cli._serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(shlex.split(command)[1:])
    given = vars(args)
    server = {k: given[k] for k in cli.SERVER_FLAGS if k in given}
    inverter = {k: given[k] for k in cli.INVERTER_FLAGS if k in given}
    sim_config.load(None, server, inverter)  # raises ConfigError naming the flag


@pytest.mark.parametrize("name", sorted(PASSED))
def test_the_charms_extreme_values_start_the_simulator(name):
    for value in _extremes(name):
        option = {name: int(value) if Config.model_fields[name].annotation is int else value}
        if name.endswith("_port"):
            others = {"modbus_port": 1502, "ws_port": 18082, "http_port": 18080}
            option = others | option
            option = {k: v for k, v in option.items() if k == name or v != value}
        config = Config(**{"model": "SH10RT", **option})
        _simulator_accepts(serve_command(config, "SIM0000001"))


@pytest.mark.parametrize(
    ("option", "value"),
    [("unit-id", 247), ("unit-id", 0), ("battery-kwh", 1000.5), ("time-scale", 0.0),
     ("latitude", 90.5), ("longitude", -181.0), ("array-kwp", 10000.5)],
)  # fmt: skip
def test_a_value_the_simulator_refuses_blocks_the_charm_naming_the_option(option, value):
    field = option.replace("-", "_")
    model, sim_field = PASSED[field]
    with pytest.raises(pydantic.ValidationError):
        model.model_validate({sim_field: value})
    ctx = testing.Context(SungrowSimCharm)
    state = testing.State(containers={container()}, config={option: value}, leader=True)
    out = ctx.run(ctx.on.config_changed(), state)
    assert isinstance(out.unit_status, testing.BlockedStatus), out.unit_status
    assert option in out.unit_status.message
