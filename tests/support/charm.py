"""Builders for the charm's unit tests: the workload container and ctl answers.

A plain module (imported as `support.charm`), so tests import helpers from here and
tests/unit/conftest.py holds only fixtures.
"""

from __future__ import annotations

import json
from typing import Any

from ops import pebble, testing

from layer import CONTROL_URL

CTL = ("sungrow-sim", "ctl", "--url", CONTROL_URL, "--unit-id", "1")


def inverter_entry(**overrides: Any) -> dict[str, Any]:
    """One inverter as `sungrow-sim ctl` prints it (an SH10RT producing 3.2 kW)."""
    entry: dict[str, Any] = {
        "unit_id": 1,
        "model": "SH10RT",
        "device_code": 3587,
        "family": "hybrid",
        "serial": "SIM0000000",
        "nominal_power_w": 10000,
        "clock": "2026-11-21T12:00:00",
        "readings": {
            "work_state": "run",
            "pv_power_w": 3400,
            "active_power_w": 3200,
            "daily_yield_kwh": 12.3,
            "total_yield_kwh": 1234.5,
            "load_power_w": 800,
            "battery_power_w": 0,
            "battery_soc_pct": 50.0,
            "grid_power_w": 2400,
            "internal_temperature_c": 35.2,
        },
        "overrides": {"power_w": None, "state": None, "load_w": None, "battery_power_w": None},
        "faults": [],
    }
    entry.update(overrides)
    return entry


def state_answer(**overrides: Any) -> str:
    """`sungrow-sim ctl state` output (no --unit-id): version, protocols, inverters."""
    return json.dumps(
        {
            "version": "0.1.0",
            "protocols": {
                "modbus": {"port": 502},
                "sungrow": {"port": 502},
                "http": {"ws_port": 8082, "http_port": 80},
            },
            "inverters": [inverter_entry(**overrides)],
        }
    )


def ctl_exec(*args: str, stdout: str = "", stderr: str = "", code: int = 0) -> testing.Exec:
    """An Exec mock for `sungrow-sim ctl ... ARGS`."""
    return testing.Exec([*CTL, *args], stdout=stdout, stderr=stderr, return_code=code)


def whole_state_exec(stdout: str) -> testing.Exec:
    """An Exec mock for `sungrow-sim ctl state` without --unit-id."""
    return testing.Exec(["sungrow-sim", "ctl", "--url", CONTROL_URL, "state"], stdout=stdout)


VERSION_EXEC = testing.Exec(["sungrow-sim", "--version"], stdout="sungrow-sim 0.1.0\n")
WHOLE_STATE_EXEC = whole_state_exec(state_answer())


def container(
    *,
    can_connect: bool = True,
    execs: frozenset[testing.Exec] | set[testing.Exec] = frozenset(),
    layers: dict[str, pebble.Layer] | None = None,
    service_statuses: dict[str, pebble.ServiceStatus] | None = None,
    check_infos: frozenset[testing.CheckInfo] = frozenset(),
) -> testing.Container:
    """The `simulator` container; `--version` and `ctl state` answer unless overridden."""
    merged = {e.command_prefix: e for e in (VERSION_EXEC, WHOLE_STATE_EXEC)}
    merged.update({e.command_prefix: e for e in execs})
    return testing.Container(
        "simulator",
        can_connect=can_connect,
        execs=frozenset(merged.values()),
        layers=layers or {},
        service_statuses=service_statuses or {},
        check_infos=check_infos,
    )
