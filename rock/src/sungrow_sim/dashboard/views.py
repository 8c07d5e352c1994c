"""What the dashboard shows, as JSON: register rows, fault forms, live snapshots."""

from __future__ import annotations

import time
from typing import Any

from sungrow_sim.faults import DESCRIPTIONS, TRANSPORT_KINDS, FaultSpec
from sungrow_sim.inverter import Inverter
from sungrow_sim.registers import RegisterSpec, catalogue, decode, decode_ascii
from sungrow_sim.simulator import Simulator

# Which of FaultSpec's options each kind takes (besides unit_id and duration_s, which all
# kinds take). Transport kinds act per request: scope, probability and the address range.
_TRANSPORT_OPTIONS = ("scope", "probability", "start", "count")
_KIND_OPTIONS: dict[str, tuple[str, ...]] = {
    "inverter-fault": ("code",),
    "exception": ("code",),
    "malformed-exception": ("code",),
    "slow-reply": ("delay_s",),
    "session-limit": ("scope", "max_sessions"),
    "refuse-connections": ("scope",),
    "token-expiry": (),
}
_COMMON = ("unit_id", "duration_s")


def fault_forms() -> dict[str, Any]:
    """Per kind: its description and the options of its form (from FaultSpec's schema)."""
    schema = FaultSpec.model_json_schema()
    props: dict[str, Any] = schema["properties"]
    kinds: dict[str, Any] = {}
    for kind, description in DESCRIPTIONS.items():
        names: list[str] = list(_COMMON)
        if kind in TRANSPORT_KINDS:
            names += _TRANSPORT_OPTIONS
        names += [n for n in _KIND_OPTIONS.get(kind, ()) if n not in names]
        kinds[kind] = {
            "description": description,
            "options": [_option(name, props[name]) for name in names if name in props],
        }
    return {"kinds": kinds}


def _option(name: str, prop: dict[str, Any]) -> dict[str, Any]:
    """One form field: type, bounds, choices and default from a JSON-schema property."""
    variants = prop.get("anyOf", [prop])
    typed = next((v for v in variants if v.get("type") not in (None, "null")), variants[0])
    return {
        "name": name,
        "type": typed.get("type", "string"),
        "min": typed.get("minimum", typed.get("exclusiveMinimum")),
        "max": typed.get("maximum", typed.get("exclusiveMaximum")),
        "choices": typed.get("enum"),
        "default": prop.get("default"),
        "description": prop.get("description"),
    }


def block_label(inverter: Inverter, reg: RegisterSpec) -> str | None:
    """The model's block holding a register, in documented addresses (None: not served)."""
    wire = reg.address - 1
    for start, count in inverter.spec.blocks(reg.table):
        if start <= wire and wire + reg.width <= start + count:
            return f"{reg.table} {start + 1}-{start + count}"
    return None


def served(inverter: Inverter) -> list[tuple[RegisterSpec, str]]:
    """The model's catalogue registers its image serves, with their block, in map order."""
    found = []
    for reg in sorted(
        catalogue().registers_of(inverter.spec.name), key=lambda r: (r.table, r.address)
    ):
        block = block_label(inverter, reg)
        if block is not None:
            found.append((reg, block))
    return found


def register_rows(inverter: Inverter) -> list[dict[str, Any]]:
    """Catalogue entries of the inverter's model that its image serves, with live values."""
    return [
        {
            "table": reg.table,
            "address": reg.address,
            "name": reg.name,
            "datatype": reg.datatype,
            "unit": reg.unit,
            "scale": reg.scale,
            "block": block,
            **register_value(inverter, reg),
        }
        for reg, block in served(inverter)
    ]


def register_value(inverter: Inverter, reg: RegisterSpec) -> dict[str, Any]:
    """Raw words and the decoded value of one register, from the register image."""
    words = inverter.image.read(reg.table, reg.address - 1, reg.width)
    if isinstance(words, int):
        return {"words": [], "value": None}
    value: Any
    if reg.datatype == "UTF-8":
        try:
            value = decode_ascii(words)
        except UnicodeDecodeError:
            value = None
    else:
        raw = decode(reg.datatype, words)
        value = raw * reg.scale
        value = int(value) if float(reg.scale).is_integer() else round(value, 6)
        if reg.enum and str(raw) in reg.enum:
            value = f"{reg.enum[str(raw)]} ({raw})"
    return {"words": words, "value": value}


def live_values(inverter: Inverter) -> list[list[Any]]:
    """[words, value] per row of `register_rows`, in the same order (the live feed)."""
    rows: list[list[Any]] = []
    for reg, _ in served(inverter):
        got = register_value(inverter, reg)
        rows.append([got["words"], got["value"]])
    return rows


def snapshot(sim: Simulator, inverter: Inverter, registers: bool) -> dict[str, Any]:
    """One live event: the inverter's state, faults with time left, the newest sample."""
    now = time.time()
    state = sim.inverter_state(inverter)
    state["faults"] = [
        {**fault, "expires_in_s": _left(fault.get("expires"), now)} for fault in state["faults"]
    ]
    samples = sim.samples.of(inverter.info.unit_id)
    event: dict[str, Any] = {
        "units": sorted(sim.inverters),
        "time_scale": sim.clock.time_scale,
        "timezone": str(sim.clock.zone),
        "utc_offset_s": _offset(sim),
        "inverter": state,
        "sample": samples[-1].as_dict() if samples else None,
    }
    if registers:
        event["registers"] = live_values(inverter)
    return event


def samples_view(sim: Simulator, inverter: Inverter) -> dict[str, Any]:
    """GET /v1/samples: the ring of one inverter, oldest first."""
    return {
        "unit_id": inverter.info.unit_id,
        "timezone": str(sim.clock.zone),
        "utc_offset_s": _offset(sim),
        "spacing_s": sim.samples.spacing_s,
        "span_s": sim.samples.span_s,
        "samples": [s.as_dict() for s in sim.samples.of(inverter.info.unit_id)],
    }


def _offset(sim: Simulator) -> float:
    delta = sim.clock.local().utcoffset()
    return delta.total_seconds() if delta else 0.0


def _left(expires: float | None, now: float) -> float | None:
    return None if expires is None else round(max(0.0, expires - now), 1)
