"""Where to reach a simulated inverter, from what `juju show-unit` or `juju status` shows.

Both return the interface library's `Inverter`, so a test compares what it finds with
what its own charm reads over the relation, field by field.
"""

from __future__ import annotations

from jubilant import UnitInfo
from sungrow_sim_k8s_lib.inverter import (
    DEFAULT_RELATION_NAME,
    Inverter,
    InverterUnitData,
)

from sungrow_sim_k8s_testing.state import SimulatorState


class ConnectionInfoError(LookupError):
    """The unit publishes no usable connection information."""


def inverter_from_unit_info(
    unit_name: str, info: UnitInfo, endpoint: str = DEFAULT_RELATION_NAME
) -> Inverter:
    """The inverter a simulator unit publishes on its first relation of `endpoint`.

    `info` is `juju.show_unit(unit_name)` of the simulator unit itself: its own databag is
    the `local-unit` data of each relation.
    """
    relations = [r for r in info.relation_info if r.endpoint == endpoint and r.local_unit]
    if not relations:
        raise ConnectionInfoError(
            f"{unit_name} has no {endpoint!r} relation; relate it to a requirer, or use "
            "the address from juju status (Simulator.inverter(..., via='status'))"
        )
    relation = min(relations, key=lambda r: r.relation_id)
    assert relation.local_unit is not None  # filtered above
    databag = {str(k): str(v) for k, v in relation.local_unit.data.items()}
    data = InverterUnitData.from_databag(databag)
    inverter, why = Inverter.from_unit_data_or_problem(relation.relation_id, unit_name, data)
    if inverter is None:
        raise ConnectionInfoError(f"{unit_name} is not usable yet ({why}): {databag}")
    return inverter


def inverter_from_state(
    unit_name: str, address: str, state: SimulatorState, unit_id: int | None = None
) -> Inverter:
    """The inverter at a unit's address (from juju status), described by get-readings."""
    if not address:
        raise ConnectionInfoError(f"{unit_name} has no address in juju status yet")
    inverter = state.inverter(unit_id)
    data = InverterUnitData.model_validate(
        {
            "host": address,
            "modbus-port": state.ports.get("modbus") or state.ports.get("sungrow"),
            "ws-port": state.ports.get("ws"),
            "http-port": state.ports.get("http"),
            "protocols": tuple(p for p in ("modbus", "sungrow", "http") if p in state.ports),
            "model": inverter.model,
            "device-code": inverter.device_code,
            "serial": inverter.serial,
            "unit-id": inverter.unit_id,
        }
    )
    found = Inverter.from_unit_data(-1, unit_name, data)
    if found is None:
        raise ConnectionInfoError(f"{unit_name} serves no protocol: {state.ports}")
    return found
