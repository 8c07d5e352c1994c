"""Every named quantity a register can show, computed from one plant snapshot."""

from __future__ import annotations

import math
from datetime import datetime

from sungrow_sim.plant import Controls, Flows, Plant, ambient_c
from sungrow_sim.plant.model import FLOWS
from sungrow_sim.registers.catalogue import ModelSpec
from sungrow_sim.registers.codes import START, STOP

WORK_STATE_1 = {"run": 0, "stop": 0x8000, "standby": 0x1400, "fault": 0x5500}
WORK_STATE_2 = {"run": 0, "stop": 1, "standby": 4, "fault": 9}
SYSTEM_STATE = {"run": 0x40, "stop": 0x2, "standby": 0x8, "fault": 0x100}
OFF_GRID_RUN = 0x1000
# Hybrid running states by what the energy management does (protocol appendix 2).
OPERATION_STATE = {"forced": 0x0800, "external": 0x4000, "emergency": 0x4001}
EMS_MODE_CODE = {"self-consumption": 0, "forced": 2, "external": 3, "vpp": 4}
# Registers a string inverter fills from its meter: zero without one.
METER_QUANTITIES = (
    "load_power_w",
    "meter_power_w",
    "meter_phase_power_w",
    "meter_phase_bc_power_w",
    "grid_power_w",
)
GRID_ON, GRID_OFF = 0x55, 0xAA


def _mppt_voltage(spec: ModelSpec, irradiance: float, temperature_c: float) -> float:
    nominal = 600.0 if spec.phases == 3 else 360.0
    if spec.family == "hybrid":
        nominal = 550.0 if spec.phases == 3 else 350.0
    irradiance = max(irradiance, 200.0)  # a forced output needs a working point at night too
    return (
        nominal * (1 - 0.0035 * (temperature_c - 25)) * (0.9 + 0.1 * min(1.0, irradiance / 1000))
    )


def running_bits(pv: float, battery: float, load: float, export: float) -> int:
    """Hybrid running-state bits (register 13001)."""
    bits = 1 if pv > 0 else 0
    bits |= 2 if battery > 0 else 4 if battery < 0 else 0
    bits |= 8 if load > 0 else 0
    bits |= 16 if export > 0 else 32 if export < 0 else 0
    return bits


def compute(
    spec: ModelSpec,
    plant: Plant,
    controls: Controls,
    local: datetime,
    string_count: int,
    fault_time: datetime | None,
) -> dict[str, float]:
    """Quantities by name (engineering units) for the register image and the control API."""
    f, c, cfg = plant.flows, plant.counters, plant.config
    s = controls.settings
    hybrid = spec.family == "hybrid"
    ambient = ambient_c(local)
    temperature = ambient + 8 + 25 * (abs(f.ac_w) + abs(f.battery_w)) / spec.nominal_power_w
    q: dict[str, float] = {
        **_nameplate(spec, plant, controls),
        **_powers(spec, f),
        "internal_temperature_c": round(temperature, 1),
        **_battery_and_savings(plant, ambient),
        **_clock("clock", local),
        "start_stop_code": STOP if controls.state == "stop" else START,
        "ems_mode": EMS_MODE_CODE[s.ems_mode],
        "fault_code": controls.fault_code or 0,
    }
    q.update(c.scalars())
    _add_energy(q, plant, hybrid)
    if not hybrid and not cfg.meter:
        for name in METER_QUANTITIES:
            q[name] = 0
        for name in ("export", "import", "direct"):
            for period in ("total", "daily", "monthly", "yearly"):
                q[f"{period}_{name}_kwh"] = 0.0
    _add_state(q, f.state, controls, spec, f.operation)
    _add_ac(q, spec, f.ac_w, controls.grid_lost, local, plant.phase_weights)
    _add_dc(q, spec, f.mppt_w, f.irradiance, temperature, string_count)
    _add_battery(q, spec, cfg.battery_kwh, c.battery_soc_pct, f.battery_w)
    add_protocol_quantities(q, spec, plant, controls)
    if fault_time is not None:
        q.update(_clock("alarm", fault_time, seconds=False))
    return q


def _nameplate(spec: ModelSpec, plant: Plant, controls: Controls) -> dict[str, float]:
    limit = controls.settings.power_limit_pct
    return {
        "device_code": spec.device_code,
        "nominal_power_kw": spec.nominal_power_w / 1000,
        "nominal_power_w": spec.nominal_power_w,
        "output_type": 1 if spec.phases == 3 else 0,
        "array_kw": plant.config.array_kwp,
        "power_limit_pct": limit if limit is not None else 100.0,
    }


def _powers(spec: ModelSpec, f: Flows) -> dict[str, float]:
    q: dict[str, float] = {
        "pv_power_w": round(f.pv_w),
        "active_power_w": round(f.ac_w),
        "apparent_power_va": round(abs(f.ac_w)),
        "reactive_power_var": 0,
        "power_factor": 1.0 if f.ac_w != 0 else 0.0,  # unity: no reactive power
        "load_power_w": round(f.load_w),
        "grid_power_w": round(f.export_w),
        "meter_power_w": -round(f.export_w),
        "meter_phase_power_w": -round(f.export_w / spec.phases),
        # Phases B and C of the meter (5605, 5607): none on a single-phase system.
        "meter_phase_bc_power_w": -round(f.export_w / 3) if spec.phases == 3 else 0,
        "battery_power_w": round(f.battery_w),
        "battery_power_abs_w": abs(round(f.battery_w)),
    }
    return q


def _battery_and_savings(plant: Plant, ambient: float) -> dict[str, float]:
    c = plant.counters
    temperature = plant.battery_temperature_c
    if temperature is None:
        temperature = 15 + 0.5 * ambient
    # Self-consumption: the share of today's PV energy used on site, directly or through
    # the battery, i.e. all of it but what was fed into the grid.
    pv = c.daily_yield_kwh
    used = min(max(pv - c.daily_export_kwh, 0.0), pv)
    return {
        "battery_soc_pct": c.battery_soc_pct,
        "battery_soh_pct": 100.0,
        "battery_capacity_kwh": plant.config.battery_kwh,
        "battery_temperature_c": round(temperature, 1),
        "self_consumption_pct": 100 * used / pv if pv > 0 else 0.0,
        "co2_reduction_kg": c.total_yield_kwh * 0.5,
    }


def _clock(prefix: str, when: datetime, seconds: bool = True) -> dict[str, float]:
    parts = {
        "year": when.year,
        "month": when.month,
        "day": when.day,
        "hour": when.hour,
        "minute": when.minute,
    }
    if seconds:
        parts["second"] = when.second
    return {f"{prefix}_{name}": value for name, value in parts.items()}


YEARS_KEPT = 20  # elements of the documented yearly arrays (6250ff, 6429ff, ...)


def _add_energy(q: dict[str, float], plant: Plant, hybrid: bool) -> None:
    """Output energy, and the day/month/year arrays (the running period is live)."""
    c = plant.counters
    for period in ("total", "daily", "monthly", "yearly"):
        output = q[f"{period}_yield_kwh"]
        if hybrid:
            output += q[f"{period}_battery_discharge_kwh"] - q[f"{period}_battery_charge_kwh"]
        q[f"{period}_output_kwh"] = max(0.0, output)
    if not hybrid:
        return
    q.update(_filed_arrays(plant))
    today = int(c.day[8:10]) if c.day[8:10].isdigit() else 0
    month = int(c.month[5:7]) if c.month[5:7].isdigit() else 0
    for name in FLOWS:
        if today:
            q[f"{name}_kwh_day_{today}"] = q[f"daily_{name}_kwh"]
        if month:
            q[f"{name}_kwh_month_{month}"] = q[f"monthly_{name}_kwh"]
        # The yearly arrays count years back from this one; the earlier years are filed.
        q[f"{name}_kwh_years_back_0"] = q[f"yearly_{name}_kwh"]


def _filed_arrays(plant: Plant) -> dict[str, float]:
    """The finished days, months and years as quantities (they change once a day)."""
    c = plant.counters
    key = (c.day, sum(len(v) for v in c.years.values()))
    cached = plant.filed_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    out: dict[str, float] = {}
    for name in FLOWS:
        days, months = c.days[name], c.months[name]
        for n in range(1, 32):
            out[f"{name}_kwh_day_{n}"] = days[n - 1]
        for n in range(1, 13):
            out[f"{name}_kwh_month_{n}"] = months[n - 1]
        filed = c.years.get(name, {})
        if c.year.isdigit():
            for back in range(1, YEARS_KEPT):
                out[f"{name}_kwh_years_back_{back}"] = filed.get(str(int(c.year) - back), 0.0)
    plant.filed_cache = (key, out)
    return out


def _add_state(
    q: dict[str, float], state: str, controls: Controls, spec: ModelSpec, operation: str
) -> None:
    q["work_state_code"] = WORK_STATE_1[state]
    q["work_state_2_code"] = WORK_STATE_2[state]
    system = SYSTEM_STATE[state]
    if state == "run" and spec.family == "hybrid":
        if controls.grid_lost:
            system = OFF_GRID_RUN
        else:
            system = OPERATION_STATE.get(operation, system)
    q["system_state_code"] = system
    q["grid_state_code"] = GRID_OFF if controls.grid_lost else GRID_ON
    q["running_state_bits"] = running_bits(
        q["pv_power_w"], q["battery_power_w"], q["load_power_w"], q["grid_power_w"]
    )


def _add_ac(
    q: dict[str, float],
    spec: ModelSpec,
    ac: float,
    grid_lost: bool,
    local: datetime,
    weights: tuple[float, ...],
) -> None:
    wobble = math.sin(local.timestamp() / 97.0)
    frequency = 0.0 if grid_lost else 50.0 + 0.02 * wobble
    q["grid_frequency_hz"] = round(frequency, 2)
    share = sum(weights[: spec.phases])
    for i, phase in enumerate("abc"):
        live = i < spec.phases and not grid_lost
        voltage = round(230.0 + 1.5 * wobble + 0.7 * i - 1.2 * (weights[i] - 1) * 30, 1)
        voltage = voltage if live else 0.0
        current = abs(ac) * weights[i] / share / voltage if live and voltage else 0.0
        q[f"phase_{phase}_voltage_v"] = voltage
        q[f"phase_{phase}_current_a"] = round(current, 1)


def _add_dc(
    q: dict[str, float],
    spec: ModelSpec,
    mppt_w: tuple[float, ...],
    irradiance: float,
    temperature: float,
    string_count: int,
) -> None:
    pv = sum(mppt_w)
    base = _mppt_voltage(spec, irradiance, temperature) if pv > 0 else 0.0
    currents: list[float] = []
    for n in range(1, 13):
        power = mppt_w[n - 1] if n <= len(mppt_w) else 0.0
        if power <= 0:
            q[f"mppt_{n}_voltage"] = q[f"mppt_{n}_current"] = 0.0
            currents.append(0.0)
            continue
        # Strings of other lengths and orientations work at other voltages.
        voltage = round(base * (1 + 0.03 * ((n * 7) % 5 - 2) / 2), 1)
        current = power / voltage
        q[f"mppt_{n}_voltage"] = voltage
        q[f"mppt_{n}_current"] = round(current, 1)
        currents.append(current)
    q["bus_voltage_v"] = round(max(base * 1.1, 380.0 if pv > 0 else 0.0), 1)
    # The reported strings (7013ff) go to the MPPTs in turn, the first ones taking the
    # most, as the documents' device tables wire them (3/3/2 on three MPPTs, 2/1 on two);
    # the strings of one MPPT are alike and share its current.
    each = math.ceil(string_count / spec.mppt_count)
    for n in range(1, 25):
        if n > string_count:
            q[f"string_{n}_current"] = 0.0
            continue
        mppt = (n - 1) // each
        strings = min(each, string_count - mppt * each)
        q[f"string_{n}_current"] = round(currents[mppt] / strings, 2)


def _add_battery(
    q: dict[str, float], spec: ModelSpec, capacity_kwh: float, soc: float, battery_w: float
) -> None:
    """Battery voltage, current and power that agree (V x I = P).

    The terminal voltage is the open-circuit voltage of the state of charge plus the drop
    over the internal resistance: it rises while charging and sags while discharging. No
    pack (0 kWh): no voltage and no current.
    """
    if spec.family != "hybrid":
        return  # no battery port, and no battery register to show one
    if capacity_kwh <= 0:
        q["battery_voltage_v"] = q["battery_current_a"] = 0.0
        return
    high_voltage = spec.phases == 3
    open_circuit = (320 + 0.8 * soc) if high_voltage else (48 + 0.06 * soc)
    resistance = 0.15 if high_voltage else 0.02  # ohm
    # V = Voc + R I with I = P / V  =>  V^2 - Voc V - R P = 0
    voltage = round(
        (open_circuit + math.sqrt(open_circuit**2 + 4 * resistance * battery_w)) / 2, 1
    )
    q["battery_voltage_v"] = voltage
    q["battery_current_a"] = round(abs(battery_w / voltage), 1)  # magnitude (the BMS's 13109)


# Quantities behind the registers of the vendor documents' register map (regs-10) ----------

BMS_CURRENT_LIMIT_A = 30.0  # what the dumped SH8.0RT-20 with a 16 kWh pack allows


def add_protocol_quantities(
    q: dict[str, float], spec: ModelSpec, plant: Plant, controls: Controls
) -> None:
    """Quantities for registers SunGather's catalogue lacks, from what the plant has.

    Signs as a real unit shows them: battery power and current > 0 discharging,
    meter power > 0 importing. Names are a contract (docs/registers.md).
    """
    f, c, cfg = plant.flows, plant.counters, plant.config
    hybrid = spec.family == "hybrid"
    if hybrid:  # a string inverter has no battery port (nor these registers)
        discharge = -round(f.battery_w)
        q["battery_discharge_w"] = discharge
        volts = q["battery_voltage_v"]  # 0 without a pack, which carries no current
        q["battery_current_signed_a"] = discharge / volts if volts else 0.0  # 0.1 A registers
        _add_bms_limits(q, c.battery_soc_pct, cfg.battery_kwh)
    q["nominal_reactive_kvar"] = spec.nominal_power_w / 2000
    _add_backup(q, spec, f.load_w, controls.grid_lost and hybrid)
    _add_meter_phases(q)


def _add_bms_limits(q: dict[str, float], soc: float, battery_kwh: float) -> None:
    # The limit scales with the pack (no pack, no current), about 0.6 C at ~330 V.
    limit = min(BMS_CURRENT_LIMIT_A, round(battery_kwh * 2))
    # The BMS tapers the charge current over the last 10 % of charge.
    taper = min(1.0, max(0.0, (100.0 - soc) / 10.0))
    q["battery_max_charge_current_a"] = round(limit * taper)
    q["battery_max_discharge_current_a"] = limit if soc > 0 else 0.0


def _add_backup(q: dict[str, float], spec: ModelSpec, load_w: float, islanded: bool) -> None:
    """Backup port: carries the house only while the grid is lost (plant-10 refines).

    A single-phase unit's port has phase A only: phases B and C (5721/5722, 5724/5725)
    carry nothing, so the phases add up to the total (5726).
    """
    power = round(load_w) if islanded else 0
    phase_power = round(power / spec.phases)
    three_phase = spec.phases == 3
    q["backup_power_w"] = power
    q["backup_phase_power_w"] = phase_power
    q["backup_phase_bc_power_w"] = phase_power if three_phase else 0
    for phase in "abc":
        voltage = 230.0 if islanded else q[f"phase_{phase}_voltage_v"]
        if phase != "a" and spec.phases == 1:
            voltage = 0.0
        q[f"backup_phase_{phase}_voltage_v"] = voltage
    volts = q["backup_phase_a_voltage_v"]
    current = phase_power / volts if phase_power else 0.0  # islanded: 230 V
    q["backup_phase_current_a"] = current
    q["backup_phase_bc_current_a"] = current if three_phase else 0.0
    q["backup_frequency_hz"] = 50.0 if islanded else q["grid_frequency_hz"]


def _add_meter_phases(q: dict[str, float]) -> None:
    """Meter phase voltages follow the grid; currents carry the meter's phase power."""
    per_phase = q["meter_phase_power_w"]
    for phase in "abc":
        voltage = q[f"phase_{phase}_voltage_v"]  # 0 on a phase the unit lacks
        q[f"meter_phase_{phase}_voltage_v"] = voltage
        q[f"meter_phase_{phase}_current_a"] = abs(per_phase) / voltage if voltage else 0.0
