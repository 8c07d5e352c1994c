"""Talk to the tester charm and decode Sungrow registers, for the integration tests."""

from __future__ import annotations

import json
from typing import Any

import jubilant

TESTER = "tester"

# Wire addresses (documented - 1), SPEC.md "Key registers".
SERIAL = 4989  # 10 registers, ASCII
DEVICE_CODE = 4999
NOMINAL_POWER = 5000  # 0.1 kW
TOTAL_YIELD = 5003  # U32 kWh, low word first
TOTAL_DC_POWER = 5016  # U32 W, low word first
TOTAL_ACTIVE_POWER = 5030  # U32 W, low word first (string models; set-power pins it)
WORK_STATE = 5037  # 0 run


def seen_inverters(juju: jubilant.Juju, unit: str = f"{TESTER}/0") -> list[dict[str, Any]]:
    """The inverters the tester sees on the relation, as the library parses them."""
    results = juju.run(unit, "relation-data").results
    inverters = json.loads(results["inverters"])
    assert int(results["count"]) == len(inverters)
    return inverters


def read(
    juju: jubilant.Juju,
    protocol: str,
    address: int = DEVICE_CODE,
    count: int = 1,
    *,
    table: str = "input",
    unit: str | None = None,
) -> list[int]:
    """Registers the tester reads from inside the cluster over `protocol`."""
    params: dict[str, Any] = {
        "protocol": protocol,
        "address": address,
        "count": count,
        "table": table,
    }
    if unit is not None:
        params["unit"] = unit
    results = juju.run(f"{TESTER}/0", "read-registers", params).results
    return json.loads(results["registers"])


def u32(registers: list[int]) -> int:
    """A 32-bit value, low word first."""
    return registers[0] + registers[1] * 65536
