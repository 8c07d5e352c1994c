"""Generate the simulator's own catalogue from SunGather's register file.

Usage: python tools/gen_catalogue.py [REGISTER_FILE [OUT_DIR]]

Writes rock/src/sungrow_sim/registers/data/{models,registers}.json. Facts taken from the register
file: device codes, which registers each model has, addresses, types, scales, levels and
scan blocks. Our own knowledge added here: nominal power, phases, MPPT count and the plant
quantity that drives each register. Nothing at run time reads the register file.

The device tables of Sungrow's protocol documents (transcribed in data/protocol.json) add
the models SunGather's file lacks (with their phases and MPPT count from those tables) and
the strings per MPPT of every listed model.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference" / "sungather-registers-sungrow.yaml"
DATA = ROOT / "rock" / "src" / "sungrow_sim" / "registers" / "data"

# Register name -> plant quantity (see sungrow_sim.registers.quantities). Unlisted names read a
# constant (see CONSTANTS) or zero.
SOURCES = {
    "daily_power_yields": "daily_yield_kwh",
    "total_power_yields": "total_yield_kwh",
    "total_running_time": "total_running_time_h",
    "internal_temperature": "internal_temperature_c",
    "total_apparent_power": "apparent_power_va",
    "total_dc_power": "pv_power_w",
    "phase_a_voltage": "phase_a_voltage_v",
    "phase_b_voltage": "phase_b_voltage_v",
    "phase_c_voltage": "phase_c_voltage_v",
    "phase_a_current": "phase_a_current_a",
    "phase_b_current": "phase_b_current_a",
    "phase_c_current": "phase_c_current_a",
    "total_active_power": "active_power_w",
    "total_reactive_power": "reactive_power_var",
    "power_factor": "power_factor",
    "grid_frequency": "grid_frequency_hz",
    "work_state_1": "work_state_code",
    "work_state_2": "work_state_2_code",
    "alarm_time_year": "alarm_year",
    "alarm_time_month": "alarm_month",
    "alarm_time_day": "alarm_day",
    "alarm_time_hour": "alarm_hour",
    "alarm_time_minute": "alarm_minute",
    "alarm_code_1": "fault_code",
    "nominal_active_power": "nominal_power_kw",
    "nominal_reactive_power": "nominal_power_kw",
    "active_power_regulation_setpoint": "nominal_power_w",
    "output_type": "output_type",
    "device_type_code": "device_code",
    "meter_power": "meter_power_w",
    "meter_a_phase_power": "meter_phase_power_w",
    "meter_b_phase_power": "meter_phase_power_w",
    "meter_c_phase_power": "meter_phase_power_w",
    "meter_total_power": "meter_power_w",
    "meter_phase_a_power": "meter_phase_power_w",
    "meter_phase_b_power": "meter_phase_power_w",
    "meter_phase_c_power": "meter_phase_power_w",
    "load_power": "load_power_w",
    "load_power_hybrid": "load_power_w",
    "export_power": "grid_power_w",
    "export_power_hybrid": "grid_power_w",
    "power_meter": "meter_power_w",
    "daily_export_energy": "daily_export_kwh",
    "total_export_energy": "total_export_kwh",
    "daily_import_energy": "daily_import_kwh",
    "total_import_energy": "total_import_kwh",
    "daily_direct_energy_consumption": "daily_direct_kwh",
    "total_direct_energy_consumption": "total_direct_kwh",
    "daily_running_time": "daily_running_time_min",
    "monthly_power_yields": "monthly_yield_kwh",
    "bus_voltage": "bus_voltage_v",
    "pv_power_of_today": "pv_power_w",
    "daily_pv_energy_yields": "daily_yield_kwh",
    "monthly_pv_energy_yields": "monthly_yield_kwh",
    "yearly_pv_energy_yields": "yearly_yield_kwh",
    "direct_power_consumption_today_pv": "direct_power_w",
    "direct_power_consumption_pv": "daily_direct_kwh",
    "direct_power_consumption_monthly_pv": "monthly_direct_kwh",
    "direct_power_consumption_yearly_pv": "yearly_direct_kwh",
    "export_power_from_pv_today": "export_power_w",
    "export_power_from_pv": "daily_export_kwh",
    "export_power_from_pv_monthly": "monthly_export_kwh",
    "export_power_from_pv_yearly": "yearly_export_kwh",
    "battery_charge_power_from_pv_today": "daily_battery_charge_kwh",
    "battery_charge_power_from_pv": "daily_battery_charge_kwh",
    "battery_charge_power_from_pv_monthly": "monthly_battery_charge_kwh",
    "battery_charge_power_from_pv_yearly": "yearly_battery_charge_kwh",
    "system_state": "system_state_code",
    "running_state": "running_state_bits",
    "daily_pv_generation": "daily_yield_kwh",
    "total_pv_generation": "total_yield_kwh",
    "daily_pv_export": "daily_export_kwh",
    "total_pv_export": "total_export_kwh",
    "daily_battery_charge_from_pv": "daily_battery_charge_kwh",
    "total_battery_charge_from_pv": "total_battery_charge_kwh",
    "co2_reduction": "co2_reduction_kg",
    "battery_voltage": "battery_voltage_v",
    "battery_current": "battery_current_a",
    "battery_power": "battery_power_abs_w",
    "battery_level": "battery_soc_pct",
    "soc": "battery_soc_pct",
    "battery_state_of_healthy": "battery_soh_pct",
    "soh": "battery_soh_pct",
    "battery_temperature": "battery_temperature_c",
    "average_cell_temp": "battery_temperature_c",
    "max_cell_temp": "battery_temperature_c",
    "min_cell_temp": "battery_temperature_c",
    "daily_battery_discharge_energy": "daily_battery_discharge_kwh",
    "total_battery_discharge_energy": "total_battery_discharge_kwh",
    "self_consumption_of_day": "self_consumption_pct",
    "grid_state": "grid_state_code",
    "battery_capacity": "battery_capacity_kwh",
    "daily_charge_energy": "daily_battery_charge_kwh",
    "total_charge_energy": "total_battery_charge_kwh",
    "system_fault1": "fault_code",
    "battery_pack_voltage": "battery_voltage_v",
    "bdc_rated_power": "nominal_power_w",
    # holding registers
    "year": "clock_year",
    "month": "clock_month",
    "day": "clock_day",
    "hour": "clock_hour",
    "minute": "clock_minute",
    "second": "clock_second",
    "start_stop": "start_stop_code",
    "ems_mode_selection": "ems_mode",
    "installed_pv_power": "array_kw",
    "power_limitation_setting": "power_limit_pct",
}

# Register name -> constant raw-engineering value (before scaling).
CONSTANTS = {
    "protocol_number": 0x00010003,
    "protocol_version": 0x00010003,
    "arm_software_version": 0x0101,
    "dsp_software_version": 0x0101,
    "array_insulation_resistance": 1500,
    "power_limitation_switch": 0x55,
    "export_power_limitation": 0x55,
    "scheduling_achieve_active_overload": 0x55,
    "night_svg_switch": 0x55,
    "reactive_power_adjustment_mode": 0x55,
    "pid_recovery": 0x55,
    "anti_pid": 0x55,
    "fullday_pid_suppression": 0x55,
    "charge_discharge_command": 0xCC,
    "energy_meter_comm": 0xAA,
    "power_factor_setting": 1.0,
    "bms_max_charging_current": 25,
    "bms_max_discharging_current": 25,
    "max_charging_current": 25,
    "max_discharging_current": 25,
    "export_limit_max": 20000,
    "soc_reserve": 10,
    "battery_max_charge_power": 5000,
    "battery_max_discharge_power": 5000,
    "bms_status": 1,
    "cycle_count": 12.0,
    "average_cell_voltage": 3,
    "max_cell_voltage": 3,
    "min_cell_voltage": 3,
}

# Hybrid holding registers other clients read (pysungrow 1.1.0 reads FC3 documented
# 13000-13100 in one request) that SunGather's file lacks; values valid for their enums.
HYBRID_EXTRA_HOLDING = [
    {"address": 13000, "name": "start_stop_hybrid", "source": "start_stop_code"},
    {"address": 13001, "name": "battery_maintenance", "value": 0x55},
    {"address": 13011, "name": "load_on_off_mode", "value": 0x55},
    {"address": 13055, "name": "battery_type", "value": 9},
    {"address": 13056, "name": "battery_nominal_voltage", "value": 51.2, "scale": 0.1},
    {"address": 13057, "name": "battery_capacity_ah", "value": 196},
    {"address": 13058, "name": "max_soc", "value": 100.0, "scale": 0.1},
    {"address": 13059, "name": "min_soc", "value": 10.0, "scale": 0.1},
    {"address": 13075, "name": "off_grid_enabled", "value": 0xAA},
]
HYBRID_EXTRA_BLOCKS = {"holding": [[12999, 101]]}  # documented 13000-13100

MPPT_RE = re.compile(r"^mppt_(\d+)_(voltage|current)$")
STRING_RE = re.compile(r"^string_(\d+)_current$")


def nominal_kw(model: str) -> float:
    """Nominal AC power from the model name (SG10RT -> 10, SH3K6 -> 3.6, SG33K3J -> 33.3)."""
    name = model.removeprefix("LP_P")
    if m := re.match(r"^MG(\d+)RL$", name):
        return float(m.group(1))
    if m := re.match(r"^S[GH](\d+)K(\d)(?!\d)", name):
        return float(f"{m.group(1)}.{m.group(2)}")
    m = re.match(r"^S?[GH]?(\d+(?:\.\d+)?)", name[2:] if name[:2] in ("SG", "SH") else name)
    if not m:
        raise ValueError(f"cannot derive nominal power of {model}")
    return float(m.group(1))


def phases(model: str) -> int:
    """Single-phase: RS, K-D, SH...K-20/30/V13, SH3K6/4K6; everything else three-phase."""
    single = ("RS", "K-D")
    if any(model.endswith(s) for s in single) or model.startswith(("SH5K", "SH3K6", "SH4K6")):
        return 1
    return 3


def models_of(reg: dict, all_models: list[str]) -> list[str]:
    return list(reg.get("models") or all_models)


def registers_for(table: str, regs: list[dict], all_models: list[str]) -> list[dict]:
    out: dict[int, dict] = {}
    for reg in regs:
        address, name = reg["address"], reg["name"]
        if reg.get("mask"):
            continue  # masked views of one register share its word
        if address in out and ("source" in out[address] or name not in SOURCES):
            continue  # a duplicate address: the definition with a plant source wins
        entry = {
            "table": table,
            "address": address,
            "name": name,
            "datatype": reg["datatype"],
            "scale": reg.get("accuracy", reg.get("scale", 1)),
            "unit": reg.get("unit"),
            "level": reg.get("level", 3),
            "models": reg.get("models"),
        }
        if "source" in reg or "value" in reg:
            entry.update({k: reg[k] for k in ("source", "value") if k in reg})
        elif name in SOURCES:
            entry["source"] = SOURCES[name]
        elif m := MPPT_RE.match(name):
            entry["source"] = f"mppt_{m.group(1)}_{m.group(2)}"
        elif m := STRING_RE.match(name):
            entry["source"] = f"string_{m.group(1)}_current"
        elif name in CONSTANTS:
            entry["value"] = CONSTANTS[name]
        if reg.get("datarange"):
            entry["enum"] = {str(d["response"]): d["value"] for d in reg["datarange"]}
        out[address] = entry
    del all_models
    return sorted(out.values(), key=lambda e: e["address"])


def blocks_for(
    model: str, scan: list[dict], regs: list[dict], all_models: list[str], extra: list
) -> list:
    """Wire-address blocks the model answers: scan ranges holding any of its registers."""
    used = [[start, start + count] for start, count in extra]
    for rng in scan:
        start, count = rng["start"], rng["range"]
        if any(
            start <= reg["address"] <= start + count and model in models_of(reg, all_models)
            for reg in regs
        ):
            used.append([start, start + count])
    used.sort()
    merged: list[list[int]] = []
    for lo, hi in used:
        if merged and lo <= merged[-1][1] + 1:  # adjacent or one-register gap
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [[lo, hi - lo] for lo, hi in merged]


def hybrid_extra(model: str, table: str) -> list:
    return HYBRID_EXTRA_BLOCKS.get(table, []) if model.startswith("SH") else []


def main(source: Path, out: Path = DATA) -> None:
    doc = yaml.safe_load(source.read_text())
    read, hold = doc["registers"][0]["read"], doc["registers"][1]["hold"]
    scan_read, scan_hold = doc["scan"][0]["read"], doc["scan"][1]["hold"]
    type_reg = next(r for r in read if r["name"] == "device_type_code")
    table = [(d["value"], d["response"]) for d in type_reg["datarange"]]
    all_models = [name for name, _ in table]
    mppt_regs = {r["name"]: r for r in read if MPPT_RE.match(r["name"])}
    models = []
    for name, code in table:
        mppts = max(
            int(MPPT_RE.match(n).group(1))  # type: ignore[union-attr]
            for n, r in mppt_regs.items()
            if n.endswith("_voltage") and name in models_of(r, all_models)
        )
        models.append(
            {
                "name": name,
                "device_code": code,
                "family": "hybrid" if name.startswith("SH") else "string",
                "nominal_power_w": round(nominal_kw(name) * 1000),
                "phases": phases(name),
                "mppt_count": mppts,
                "input_blocks": blocks_for(name, scan_read, read, all_models, []),
                "holding_blocks": blocks_for(
                    name, scan_hold, hold, all_models, hybrid_extra(name, "holding")
                ),
            }
        )
    siblings = add_document_models(models, json.loads((DATA / "protocol.json").read_text()))
    out.mkdir(parents=True, exist_ok=True)
    hybrids = [name for name in all_models if name.startswith("SH")]
    extra_hold = [
        {"datatype": "U16", "level": 2, "models": hybrids, **reg} for reg in HYBRID_EXTRA_HOLDING
    ]
    registers = registers_for("input", read, all_models) + registers_for(
        "holding", hold + extra_hold, all_models
    )
    for entry in registers:  # a document-only model answers what its sibling answers
        if entry["models"]:
            entry["models"] += [new for new, old in siblings.items() if old in entry["models"]]
    scan = {"input": [[r["start"], r["range"]] for r in scan_read]}
    scan["holding"] = [[r["start"], r["range"]] for r in scan_hold]
    (out / "models.json").write_text(json.dumps({"models": models}, indent=1) + "\n")
    (out / "registers.json").write_text(
        json.dumps({"registers": registers, "scan": scan}, indent=1) + "\n"
    )
    print(f"{len(models)} models, {len(registers)} registers written to {out}")


def sibling_of(name: str, family: str, phases: int, known: dict[str, dict]) -> dict:
    """The SunGather model a document-only model borrows its blocks and registers from.

    Same series suffix (SH8.0RT-20 -> SH10RT-20), else the first of the same family and
    phase count (MG5RL -> a single-phase SH).
    """
    suffix = re.sub(r"^[A-Z]+[\d.]+", "", name)
    same = [m for m in known.values() if m["family"] == family and m["phases"] == phases]
    for m in same:
        if suffix and re.sub(r"^[A-Z]+[\d.]+", "", m["name"]) == suffix:
            return m
    return same[0]


def add_document_models(models: list[dict], protocol: dict) -> dict[str, str]:
    """Models from the documents' device tables; MPPTs and strings for every listed model.

    Returns new model name -> the SunGather sibling whose registers it shares.
    """
    known = {m["name"]: m for m in models}
    siblings: dict[str, str] = {}
    for family, data in protocol["families"].items():
        for row in data["models"]:
            entry = known.get(row["name"])
            if entry is None:
                sibling = sibling_of(row["name"], family, row["phases"], known)
                siblings[row["name"]] = sibling["name"]
                entry = {
                    "name": row["name"],
                    "device_code": int(row["code"], 16),
                    "family": family,
                    "nominal_power_w": round(nominal_kw(row["name"]) * 1000),
                    "phases": row["phases"],
                    "mppt_count": row["mppt"],
                    "input_blocks": sibling["input_blocks"],
                    "holding_blocks": sibling["holding_blocks"],
                }
                models.append(entry)
            entry["mppt_count"] = row["mppt"]  # the document's table is the ground truth
            entry["strings_per_mppt"] = row["strings"]
    return siblings


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:3]]
    main(*(args or [DEFAULT_SOURCE]))
