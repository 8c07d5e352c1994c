"""Typed views of the simulator's action results, as `juju run --format json` returns them.

The charm turns `sungrow-sim ctl` JSON into Juju action results: keys lowercase and
hyphenated, lists as maps keyed by the item's id (or its index), nulls left out, and
every value a string. These functions turn that back into typed values.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

Scalar = bool | int | float | str

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


class ResultsError(ValueError):
    """Action results do not have the shape the simulator charm returns."""


def scalar(text: object) -> Scalar:
    """Convert one result string back to a bool, int or float where it is one."""
    if not isinstance(text, str):
        raise ResultsError(f"expected a string result value, got {text!r}")
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def _as_map(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ResultsError(f"{what}: expected a map, got {value!r}")
    return value  # pyright: ignore[reportUnknownVariableType]


def _as_list(value: object, what: str) -> list[Mapping[str, Any]]:
    """A list the charm encoded as a map keyed by index or id, in a stable order."""
    items = _as_map(value, what)

    def order(key: str) -> tuple[int, int | str]:
        return (0, int(key)) if key.isdigit() else (1, key)

    return [_as_map(items[key], f"{what}.{key}") for key in sorted(items, key=order)]


def _required(data: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise ResultsError(f"{what}: no {key!r} in {sorted(data)}")
    return data[key]


@dataclasses.dataclass(frozen=True)
class Fault:
    """An active fault."""

    id: str
    kind: str
    scope: str | None = None
    options: dict[str, Scalar] = dataclasses.field(default_factory=dict[str, Scalar])
    """Everything else the simulator reports about the fault (code, expires, ...)."""

    @classmethod
    def from_results(cls, data: Mapping[str, Any]) -> Fault:
        """Parse one fault map."""
        fault_id = str(_required(data, "id", "fault"))
        kind = str(_required(data, "kind", f"fault {fault_id}"))
        scope = data.get("scope")
        options = {
            key: scalar(value)
            for key, value in data.items()
            if key not in ("id", "kind", "scope") and not isinstance(value, Mapping)
        }
        return cls(fault_id, kind, str(scope) if scope is not None else None, options)


@dataclasses.dataclass(frozen=True)
class InverterState:
    """One simulated inverter: identity, live readings, overrides and faults."""

    unit_id: int
    model: str
    device_code: int
    serial: str
    family: str | None = None
    nominal_power_w: float | None = None
    clock: str | None = None
    readings: dict[str, Scalar] = dataclasses.field(default_factory=dict[str, Scalar])
    """Reading name (hyphenated, e.g. "active-power-w") to value; absent when null."""
    overrides: dict[str, Scalar] = dataclasses.field(default_factory=dict[str, Scalar])
    faults: tuple[Fault, ...] = ()

    @classmethod
    def from_results(cls, data: Mapping[str, Any]) -> InverterState:
        """Parse one entry of `inverters` (or an affected inverter's entry)."""
        what = "inverter"
        nominal = data.get("nominal-power-w")
        return cls(
            unit_id=int(_required(data, "unit-id", what)),
            model=str(_required(data, "model", what)),
            device_code=int(_required(data, "device-code", what)),
            serial=str(_required(data, "serial", what)),
            family=data.get("family"),
            nominal_power_w=float(nominal) if nominal is not None else None,
            clock=data.get("clock"),
            readings={
                k: scalar(v) for k, v in _as_map(data.get("readings", {}), "readings").items()
            },
            overrides={
                k: scalar(v) for k, v in _as_map(data.get("overrides", {}), "overrides").items()
            },
            faults=tuple(
                Fault.from_results(f) for f in _as_list(data.get("faults", {}), "faults")
            ),
        )

    def reading(self, name: str) -> Scalar:
        """A reading by its ctl name ("active_power_w") or result key ("active-power-w")."""
        key = name.replace("_", "-")
        if key not in self.readings:
            raise KeyError(f"no reading {name!r}; have {sorted(self.readings)}")
        return self.readings[key]


@dataclasses.dataclass(frozen=True)
class SimulatorState:
    """What `get-readings` returns: version, ports per protocol, and the unit's inverter.

    The charm returns its own inverter's entry beside `version` and `protocols`. A whole
    `sungrow-sim ctl state` is control API JSON (snake_case keys, typed values), not
    action results: convert it with `control.as_results` first, then its `inverters`
    list parses (LocalSimulator does that).
    """

    version: str
    ports: dict[str, int]
    """Port per protocol, named like the interface library: modbus, sungrow, http, ws."""
    inverters: tuple[InverterState, ...]

    @classmethod
    def from_results(cls, results: Mapping[str, Any]) -> SimulatorState:
        """Parse the results of the get-readings action."""
        ports: dict[str, int] = {}
        for name, entry in _as_map(results.get("protocols", {}), "protocols").items():
            entry = _as_map(entry, f"protocols.{name}")
            if "port" in entry:
                ports[name] = int(entry["port"])
            if "ws-port" in entry:
                ports["ws"] = int(entry["ws-port"])
            if "http-port" in entry:
                ports["http"] = int(entry["http-port"])
        if "inverters" in results:  # a whole `ctl state`
            inverters = _as_list(results["inverters"], "inverters")
        elif "unit-id" in results:  # the charm's get-readings: its own inverter at the top
            inverters = [results]
        else:
            raise ResultsError(f"get-readings: no inverter in {sorted(results)}")
        return cls(
            version=str(results.get("version", "")),
            ports=ports,
            inverters=tuple(InverterState.from_results(i) for i in inverters),
        )

    def inverter(self, unit_id: int | None = None) -> InverterState:
        """The inverter with this Modbus unit id, or the only one."""
        if unit_id is None:
            if len(self.inverters) != 1:
                raise ResultsError(f"{len(self.inverters)} inverters: pass unit_id")
            return self.inverters[0]
        for inverter in self.inverters:
            if inverter.unit_id == unit_id:
                return inverter
        raise ResultsError(f"no inverter with unit id {unit_id}")


def parse_faults(results: Mapping[str, Any]) -> list[Fault]:
    """Parse the faults in list-faults or inject-fault results.

    A single fault (an `id` and a `kind` at the top) gives one; otherwise every map of
    fault maps found at the top level (the charm's list key) is read.
    """
    if "id" in results and "kind" in results:
        return [Fault.from_results(results)]
    faults: list[Fault] = []
    for key, value in results.items():
        if isinstance(value, Mapping) and all(
            isinstance(item, Mapping) and "kind" in item
            for item in value.values()  # pyright: ignore[reportUnknownVariableType]
        ):
            faults.extend(Fault.from_results(f) for f in _as_list(value, key))
    return faults
