"""The physical plant behind one inverter: PV, house load, battery, grid and energy.

Deterministic: every output is a function of the configuration, the seed, the simulated
time and the sequence of steps. Power flows follow PV = load + battery + export for
hybrids (battery > 0 charging, export > 0 feeding the grid, both in watts); the battery
power is measured at its terminals and its losses (charge and discharge, about 93 %
round trip) show in the state of charge, not in the flows.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Literal

from sungrow_sim.plant.sun import clear_sky_ghi, solar_elevation_deg

WorkState = Literal["run", "stop", "standby", "fault"]
EmsMode = Literal["self-consumption", "forced", "external", "vpp"]
Command = Literal["charge", "discharge", "stop"]
# What the energy management does right now (running state words follow it).
Operation = Literal[
    "idle", "self-consumption", "forced", "external", "off-grid", "emergency", "forced-charging"
]
EFFICIENCY = 0.97
SYSTEM_DERATE = 0.9
MAX_SUBSTEP_S = 60.0
BATTERY_EFFICIENCY = 0.965  # each way: charge and discharge, about 93 % round trip
EMERGENCY_CHARGE_SHARE = 0.25  # of the battery power limit, below the backup reserve
FLOWS = ("yield", "export", "import", "direct", "battery_charge", "battery_discharge")
PERIODS = ("total", "daily", "monthly", "yearly")
# Counters kept per period (total, daily, monthly, yearly) for each integrated flow.
_PERIOD_COUNTERS = tuple(tuple(f"{period}_{name}_kwh" for period in PERIODS) for name in FLOWS)
BATTERY_RESERVE_PCT = 10.0


def ambient_c(local: datetime) -> float:
    """Outside temperature: a seasonal mean and a daily swing (northern hemisphere)."""
    hour = local.hour + local.minute / 60
    day = local.timetuple().tm_yday
    seasonal = 10 - 9 * math.cos(2 * math.pi * (day - 20) / 365)
    return seasonal + 6 * math.sin(2 * math.pi * (hour - 9) / 24)


@dataclass(frozen=True)
class PlantConfig:
    """What does not change while the plant runs."""

    family: Literal["string", "hybrid"]
    nominal_power_w: int
    phases: int
    mppt_count: int
    array_kwp: float
    battery_kwh: float
    latitude: float
    longitude: float
    seed: int = 0
    cloudiness: float = 0.2
    meter: bool = True

    @property
    def battery_max_power_w(self) -> float:
        """Charge and discharge limit: 0.5 C, at most the inverter's rating."""
        return min(self.battery_kwh * 500, self.nominal_power_w)


@dataclass(frozen=True)
class PlantSettings:
    """The device settings that steer the plant, in engineering units.

    The settings store (holding registers) builds this; None switches a limit off.
    """

    ems_mode: EmsMode = "self-consumption"
    command: Command = "stop"
    command_power_w: float = 0.0
    max_soc_pct: float = 100.0
    min_soc_pct: float = 5.0
    soc_reserve_pct: float = 0.0
    backup: bool = True
    export_limit_w: float | None = None
    power_limit_pct: float | None = None
    max_charge_w: float | None = None
    max_discharge_w: float | None = None
    # Self-consumption's forced charging periods: (start, end in minutes of the local
    # day, target SOC %); empty when the function is off.
    forced_charging: tuple[tuple[int, int, float], ...] = ()
    forced_charging_weekdays_only: bool = False

    def forced_charge_target(self, local: datetime) -> float | None:
        """The target SOC of a forced charging period running at `local`, if any."""
        if not self.forced_charging:
            return None
        if self.forced_charging_weekdays_only and local.weekday() >= 5:
            return None
        minute = local.hour * 60 + local.minute
        for start, end, target in self.forced_charging:
            if start == end:
                continue
            inside = start <= minute < end if start < end else minute >= start or minute < end
            if inside:
                return target
        return None


def _fit(values: object, size: int) -> list[float]:
    """`size` floats from a saved list (missing or bad entries are 0)."""
    items = list(values)[:size] if isinstance(values, list) else []
    out = [float(v) if isinstance(v, int | float) and v >= 0 else 0.0 for v in items]
    return out + [0.0] * (size - len(out))


def _new_days() -> dict[str, list[float]]:
    return {name: [0.0] * 31 for name in FLOWS}


def _new_months() -> dict[str, list[float]]:
    return {name: [0.0] * 12 for name in FLOWS}


@dataclass
class Counters:
    """Energy counters and battery charge: what persistence saves.

    `days` holds this month's finished days (index = day - 1), `months` this year's
    finished months, `years` the finished years; the running day, month and year are the
    daily, monthly and yearly counters.
    """

    day: str = ""
    month: str = ""
    year: str = ""
    total_yield_kwh: float = 0.0
    daily_yield_kwh: float = 0.0
    monthly_yield_kwh: float = 0.0
    yearly_yield_kwh: float = 0.0
    total_running_time_h: float = 0.0
    daily_running_time_min: float = 0.0
    total_export_kwh: float = 0.0
    daily_export_kwh: float = 0.0
    monthly_export_kwh: float = 0.0
    yearly_export_kwh: float = 0.0
    total_import_kwh: float = 0.0
    daily_import_kwh: float = 0.0
    monthly_import_kwh: float = 0.0
    yearly_import_kwh: float = 0.0
    total_direct_kwh: float = 0.0
    daily_direct_kwh: float = 0.0
    monthly_direct_kwh: float = 0.0
    yearly_direct_kwh: float = 0.0
    total_battery_charge_kwh: float = 0.0
    daily_battery_charge_kwh: float = 0.0
    monthly_battery_charge_kwh: float = 0.0
    yearly_battery_charge_kwh: float = 0.0
    total_battery_discharge_kwh: float = 0.0
    daily_battery_discharge_kwh: float = 0.0
    monthly_battery_discharge_kwh: float = 0.0
    yearly_battery_discharge_kwh: float = 0.0
    battery_soc_pct: float = 50.0
    commissioned: str = ""
    days: dict[str, list[float]] = field(default_factory=_new_days)
    months: dict[str, list[float]] = field(default_factory=_new_months)
    years: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Saved arrays of another shape (an older or damaged state file) are refitted,
        # so a day or month roll never indexes past them.
        self.days = {
            n: _fit(self.days.get(n) if isinstance(self.days, dict) else None, 31) for n in FLOWS
        }
        self.months = {
            n: _fit(self.months.get(n) if isinstance(self.months, dict) else None, 12)
            for n in FLOWS
        }
        years = self.years if isinstance(self.years, dict) else {}
        self.years = {
            n: {str(y): float(v) for y, v in years[n].items() if isinstance(v, int | float)}
            for n in FLOWS
            if isinstance(years.get(n), dict)
        }

    def as_dict(self) -> dict[str, object]:
        """Plain dict for persistence (the arrays copied, so a snapshot stays put)."""
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["days"] = {k: list(v) for k, v in self.days.items()}
        out["months"] = {k: list(v) for k, v in self.months.items()}
        out["years"] = {k: dict(v) for k, v in self.years.items()}
        return out

    def scalars(self) -> dict[str, float]:
        """The float counters by name (what the register quantities take)."""
        return {name: getattr(self, name) for name in _SCALARS}


_SCALARS = tuple(
    f.name for f in fields(Counters) if f.type in ("float", float) and f.name != "battery_soc_pct"
)


@dataclass(frozen=True)
class Controls:
    """Overrides and fault conditions that steer the plant (None means automatic)."""

    power_w: float | None = None
    state: WorkState | None = None
    load_w: float | None = None
    battery_power_w: float | None = None
    battery_soc_pct: float | None = None
    fault_code: int | None = None
    grid_lost: bool = False
    night: bool = False
    settings: PlantSettings = field(default_factory=PlantSettings)
    forced_charge_to_pct: float | None = None  # a forced charging period is running


@dataclass
class Flows:
    """Instantaneous power flows in watts after the last step."""

    state: WorkState = "standby"
    irradiance: float = 0.0
    pv_w: float = 0.0
    ac_w: float = 0.0
    load_w: float = 0.0
    battery_w: float = 0.0
    export_w: float = 0.0
    direct_w: float = 0.0
    mppt_w: tuple[float, ...] = ()
    operation: Operation = "idle"


@dataclass
class Plant:
    """One plant: configuration, counters and the flows of the last step."""

    config: PlantConfig
    counters: Counters = field(default_factory=Counters)
    flows: Flows = field(default_factory=Flows)

    def __post_init__(self) -> None:
        rng = random.Random(self.config.seed)
        self._cloud_phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
        self._load_phase = rng.uniform(0, 2 * math.pi)
        count = max(1, self.config.mppt_count)
        # Per MPPT: a share of the array, an east/west lean of its orientation and an
        # hour of the day when something shades it.
        shares = [rng.uniform(0.85, 1.15) for _ in range(count)]
        total = sum(shares)
        self.mppt_shares = tuple(s / total for s in shares)
        self.mppt_lean = tuple(rng.uniform(-0.25, 0.25) for _ in range(count))
        self.mppt_shade = tuple(
            (rng.uniform(7.5, 17.5), rng.uniform(0.15, 0.45)) for _ in range(count)
        )
        self.phase_weights = tuple(1 + rng.uniform(-0.03, 0.03) for _ in range(3))
        self.battery_temperature_c: float | None = None
        # The register side's quantities of the filed days/months/years, by calendar key.
        self.filed_cache: tuple[object, dict[str, float]] | None = None

    # -- weather, sun and load ------------------------------------------------------------

    def irradiance(self, when: datetime, night: bool) -> float:
        """Plane irradiance in W/m2: clear sky times a smooth, seeded cloud factor."""
        if night:
            return 0.0
        elevation = solar_elevation_deg(when, self.config.latitude, self.config.longitude)
        return clear_sky_ghi(elevation) * self.cloud_factor(when.timestamp() / 3600)

    def cloud_factor(self, hours: float) -> float:
        """1 under a clear sky, less under the seeded clouds (hours since the epoch)."""
        waves = sum(
            math.sin(2 * math.pi * hours / period + phase)
            for period, phase in zip((0.7, 1.9, 5.3), self._cloud_phases, strict=True)
        )
        return 1 - self.config.cloudiness * max(0.0, waves / 3)

    def mppt_factors(self, solar_hour: float) -> tuple[float, ...]:
        """Each MPPT's share of the array's output at a solar hour (orientation, shade).

        The shares sum to 1: strings differ from each other, the array's total does not
        depend on the seed.
        """
        morning = math.sin(math.pi * (12 - solar_hour) / 12)  # > 0 before solar noon
        out = []
        for share, lean, (shade_at, depth) in zip(
            self.mppt_shares, self.mppt_lean, self.mppt_shade, strict=True
        ):
            shade = 1 - depth * math.exp(-(((solar_hour - shade_at) / 0.6) ** 2))
            out.append(share * max(0.0, 1 + lean * morning) * shade)
        # The array's total follows the sun and the clouds alone; the MPPTs split it.
        total = sum(out) or 1.0
        return tuple(v / total for v in out)

    def solar_hour(self, when: datetime) -> float:
        """Mean solar time in hours at the plant's longitude."""
        hours = when.timestamp() / 3600 + self.config.longitude / 15
        return hours % 24

    def house_load(self, local: datetime) -> float:
        """House consumption: base load, morning and evening peaks, weekends and seasons."""
        hour = local.hour + local.minute / 60
        weekday = local.weekday()
        day = local.timetuple().tm_yday
        return round(self.load_at(hour, weekday >= 5, day))

    def load_at(self, hour: float, weekend: bool, day_of_year: int) -> float:
        """House load in W at a local hour (weekend or not) on a day of the year."""
        if weekend:
            morning = 800 * math.exp(-(((hour - 9.0) / 1.6) ** 2))
            midday = 600 * math.exp(-(((hour - 13.0) / 2.0) ** 2))
        else:
            morning = 900 * math.exp(-(((hour - 7.0) / 1.0) ** 2))
            midday = 0.0
        evening = 1500 * math.exp(-(((hour - 19.0) / 2.0) ** 2))
        season = 1 + 0.25 * math.cos(2 * math.pi * (day_of_year - 15) / 365)  # winter more
        ripple = 80 * math.sin(2 * math.pi * hour / 0.37 + self._load_phase)
        return (350 + morning + midday + evening) * season + ripple

    # -- stepping -------------------------------------------------------------------------

    def step(
        self,
        when: datetime,
        local: datetime,
        dt_s: float,
        controls: Controls,
        max_substep_s: float = MAX_SUBSTEP_S,
    ) -> None:
        """Advance to `when` over the last `dt_s` seconds, in equal bounded substeps.

        The substeps walk through that time (each takes the flows at its end), so a long
        step at a high time scale integrates as accurately as many short ones.
        """
        dt_s = max(0.0, dt_s)
        count = max(1, math.ceil(dt_s / max_substep_s))
        sub = dt_s / count
        for index in range(count - 1, -1, -1):
            back = timedelta(seconds=sub * index)
            self._roll_calendar(local - back)
            self.flows = self._flows(when - back, local - back, controls, sub)
            self._integrate(sub)
            self._warm_battery(local - back, sub)

    def _state(self, controls: Controls, available_ac: float) -> WorkState:
        if controls.fault_code is not None:
            return "fault"
        if controls.state in ("stop", "standby"):
            return controls.state
        if controls.grid_lost and self.config.family == "string":
            return "fault"  # anti-islanding: a string inverter trips without the grid
        if controls.grid_lost and not controls.settings.backup:
            return "fault"  # no backup: the hybrid trips like a grid-tied inverter
        if controls.power_w is not None or available_ac > 0.005 * self.config.nominal_power_w:
            return "run"
        return "standby"

    def _flows(
        self, when: datetime, local: datetime, controls: Controls, dt_s: float = 0.0
    ) -> Flows:
        cfg = self.config
        irradiance = self.irradiance(when, controls.night)
        factors = self.mppt_factors(self.solar_hour(when))  # they sum to 1
        available_ac = min(
            cfg.array_kwp * irradiance * SYSTEM_DERATE * EFFICIENCY, cfg.nominal_power_w
        )
        state = self._state(controls, available_ac)
        load = controls.load_w if controls.load_w is not None else self.house_load(local)
        if state == "standby" and cfg.family == "hybrid" and controls.state is None:
            # The hybrid keeps running for its battery (idle is decided below), unless a
            # night-standby fault holds it in standby.
            state = "standby" if controls.night else "run"
        if state != "run":
            ac = 0.0
        elif controls.power_w is not None:
            ac = min(max(controls.power_w, 0.0), cfg.nominal_power_w)
        else:
            ac = available_ac
        if cfg.family == "string":
            flows = self._string_flows(state, irradiance, ac, load, controls)
        else:
            flows = self._hybrid_flows(state, irradiance, ac, load, controls, dt_s)
        flows.mppt_w = tuple(flows.pv_w * f for f in factors)
        return flows

    def _string_flows(
        self, state: WorkState, irradiance: float, ac: float, load: float, controls: Controls
    ) -> Flows:
        cfg, s = self.config, controls.settings
        if s.power_limit_pct is not None:
            ac = min(ac, cfg.nominal_power_w * s.power_limit_pct / 100)
        if not cfg.meter:
            load = 0.0  # without a meter the inverter knows nothing of the house
        if s.export_limit_w is not None:
            # With a meter the limit holds at the grid point; without, at the AC output.
            ac = min(ac, s.export_limit_w + (load if cfg.meter else 0.0))
        ac = round(max(ac, 0.0))
        export = 0.0 if controls.grid_lost else ac - load
        # No battery and no energy management: the operation (a hybrid's system state)
        # stays "idle".
        return Flows(
            state,
            irradiance,
            pv_w=ac / EFFICIENCY,
            ac_w=ac,
            load_w=load,
            export_w=export,
            direct_w=min(ac, load),
        )

    def battery_limits(
        self, soc: float, s: PlantSettings, grid_lost: bool, dt_s: float = 0.0
    ) -> tuple[float, float]:
        """Charge and discharge power the battery can take now (W, both >= 0).

        With `dt_s`, no more than the SOC limits leave room for over that time.
        """
        cfg = self.config
        if cfg.battery_kwh <= 0:
            return 0.0, 0.0
        rated = cfg.battery_max_power_w
        charge = min(rated, s.max_charge_w) if s.max_charge_w is not None else rated
        discharge = min(rated, s.max_discharge_w) if s.max_discharge_w is not None else rated
        floor = s.min_soc_pct
        if not grid_lost and s.backup:
            floor = max(floor, s.soc_reserve_pct)
        if dt_s > 0:
            per_pct = cfg.battery_kwh * 10 * 3600 / dt_s  # W that move 1 % over dt_s
            charge = min(charge, max(0.0, s.max_soc_pct - soc) * per_pct / BATTERY_EFFICIENCY)
            # Whole watts, rounded down: the flows are served in whole watts, and a
            # discharge rounded up would carry the SOC below the reserve, where the
            # battery charges from the grid (a blip of emergency charging each time).
            room = max(0.0, soc - floor) * per_pct * BATTERY_EFFICIENCY
            discharge = min(discharge, float(math.floor(room)))
        return (charge if soc < s.max_soc_pct else 0.0, discharge if soc > floor else 0.0)

    def _hybrid_flows(
        self,
        state: WorkState,
        irradiance: float,
        pv: float,
        load: float,
        controls: Controls,
        dt_s: float = 0.0,
    ) -> Flows:
        if state != "run":
            return Flows(state, irradiance, load_w=load, export_w=-load)  # the grid's house
        pv, load, battery, op = dispatch(
            self, pv, load, self.counters.battery_soc_pct, controls, dt_s
        )
        pv, load, battery = round(pv), round(load), round(battery)
        export = pv - load - battery
        if pv <= 0 and battery == 0 and controls.power_w is None:
            state, op = "standby", "idle"
        return Flows(
            state,
            irradiance,
            pv,
            pv - battery,
            load,
            battery,
            export,
            min(pv, load),
            operation=op,
        )

    def _integrate(self, dt_s: float) -> None:
        c, f = self.counters, self.flows
        hours = dt_s / 3600
        produced = (f.pv_w if self.config.family == "hybrid" else f.ac_w) * hours / 1000
        add_energy(
            self,
            produced,
            max(f.export_w, 0.0) * hours / 1000,
            max(-f.export_w, 0.0) * hours / 1000,
            f.direct_w * hours / 1000,
            max(f.battery_w, 0.0) * hours / 1000,
            max(-f.battery_w, 0.0) * hours / 1000,
        )
        if f.state == "run":
            c.total_running_time_h += hours
            c.daily_running_time_min += dt_s / 60

    def _warm_battery(self, local: datetime, dt_s: float) -> None:
        """The battery's temperature follows the air around it and its own losses."""
        if self.config.battery_kwh <= 0:
            return
        indoor = 15 + 0.5 * ambient_c(local)  # garage or cellar: half the outside swing
        rated = self.config.battery_max_power_w or 1.0
        target = indoor + 8 * abs(self.flows.battery_w) / rated
        if self.battery_temperature_c is None:
            self.battery_temperature_c = target
            return
        alpha = 1 - math.exp(-dt_s / 5400)  # 1.5 h time constant
        self.battery_temperature_c += (target - self.battery_temperature_c) * alpha

    def _roll_calendar(self, local: datetime) -> None:
        roll_calendar(self.counters, local.strftime("%Y-%m-%d"))


def dispatch(
    plant: Plant, pv: float, load: float, soc: float, controls: Controls, dt_s: float = 0.0
) -> tuple[float, float, float, Operation]:
    """A hybrid's energy management: (pv, load, battery, operation) in W, battery > 0 charging.

    Self-consumption covers the load from PV, then the battery (down to min SOC, or the
    backup reserve on grid), charges from surplus up to max SOC and imports the rest.
    Forced and external modes run the commanded charge or discharge power. The AC
    output limit (power limitation) and the grid-point limit (export limitation) reduce
    battery discharge first, then curtail PV. Without the grid the battery carries the
    house and what it cannot cover is shed.
    """
    s, cfg = controls.settings, plant.config
    grid_lost = controls.grid_lost
    charge_max, discharge_max = plant.battery_limits(soc, s, grid_lost, dt_s)
    battery, op = _battery_target(plant, pv, load, soc, controls, charge_max, discharge_max)
    if controls.power_w is not None:
        pv = max(0.0, pv + battery)  # the override fixes the AC output: pv - battery
    limit = float(cfg.nominal_power_w)
    if s.power_limit_pct is not None:
        limit = min(limit, cfg.nominal_power_w * s.power_limit_pct / 100)
    pv_first = controls.battery_power_w is not None  # an override's power is kept
    pv, battery = _reduce(pv, battery, pv - battery - limit, pv_first)
    if not grid_lost and s.export_limit_w is not None:
        pv, battery = _reduce(pv, battery, pv - load - battery - s.export_limit_w, pv_first)
    if grid_lost:
        export = pv - load - battery
        if export > 0:
            pv -= export  # curtail: nowhere to send it
        else:
            load += export  # shed what PV and battery cannot cover
    return pv, load, battery, op


def _battery_target(
    plant: Plant,
    pv: float,
    load: float,
    soc: float,
    controls: Controls,
    charge_max: float,
    discharge_max: float,
) -> tuple[float, Operation]:
    """The battery power the mode asks for, within its limits (> 0 charging)."""
    s = controls.settings
    if controls.grid_lost:
        return min(max(pv - load, -discharge_max), charge_max), "off-grid"
    if controls.battery_power_w is not None:
        # A test override (ctl set-battery --power), not the device's compulsory mode.
        return min(max(controls.battery_power_w, -discharge_max), charge_max), "self-consumption"
    if controls.power_w is not None:
        return 0.0, "self-consumption"
    if s.ems_mode != "self-consumption":
        op: Operation = "forced" if s.ems_mode == "forced" else "external"
        power = max(0.0, s.command_power_w)
        if s.command == "charge":
            return min(power, charge_max), op
        if s.command == "discharge":
            return -min(power, discharge_max), op
        return 0.0, op
    target = controls.forced_charge_to_pct
    if target is not None and plant.config.battery_kwh > 0 and soc < target:
        return charge_max, "forced-charging"  # from PV first, the grid for the rest
    if s.backup and plant.config.battery_kwh > 0 and soc < s.soc_reserve_pct:
        # Below the backup reserve: charge, from the grid if need be.
        return min(charge_max, max(pv - load, EMERGENCY_CHARGE_SHARE * charge_max)), "emergency"
    return min(max(pv - load, -discharge_max), charge_max), "self-consumption"


def _reduce(
    pv: float, battery: float, excess: float, pv_first: bool = False
) -> tuple[float, float]:
    """Take `excess` W off the AC side: battery discharge first, then PV (or PV first)."""
    if excess <= 0:
        return pv, battery
    if pv_first:
        cut = min(excess, pv)
        pv -= cut
        excess -= cut
    if battery < 0:
        take = min(excess, -battery)
        battery += take
        excess -= take
    return max(0.0, pv - excess), battery


def add_energy(
    plant: Plant,
    produced: float,
    exported: float,
    imported: float,
    direct: float,
    charged: float,
    discharged: float,
) -> None:
    """Add energies (kWh) to every period's counter and move the state of charge."""
    book(plant.counters, (produced, exported, imported, direct, charged, discharged))
    capacity = plant.config.battery_kwh
    if capacity > 0 and plant.config.family == "hybrid":
        c = plant.counters
        stored = charged * BATTERY_EFFICIENCY - discharged / BATTERY_EFFICIENCY
        c.battery_soc_pct = min(100.0, max(0.0, c.battery_soc_pct + stored / capacity * 100))


def book(c: Counters, energies: tuple[float, ...]) -> None:
    """Add energies (kWh, in FLOWS order) to the total, daily, monthly and yearly counters."""
    for names, value in zip(_PERIOD_COUNTERS, energies, strict=True):
        if value:
            for attr in names:
                setattr(c, attr, getattr(c, attr) + value)


def _calendar_index(text: str, size: int) -> int:
    """0-based index of a day or month number; the last slot for a damaged saved date."""
    try:
        return min(max(int(text), 1), size) - 1
    except ValueError:
        return size - 1


def roll_calendar(c: Counters, day: str) -> None:
    """Start a new day, month or year: file the finished period, zero its counters."""
    if day == c.day:
        return
    month, year = day[:7], day[:4]
    if c.day:
        index = _calendar_index(c.day[8:10], 31)
        for name in FLOWS:
            c.days[name][index] = getattr(c, f"daily_{name}_kwh")
            setattr(c, f"daily_{name}_kwh", 0.0)
        c.daily_running_time_min = 0.0
    if c.month and c.month != month:
        index = _calendar_index(c.month[5:7], 12)
        for name in FLOWS:
            c.months[name][index] = getattr(c, f"monthly_{name}_kwh")
            setattr(c, f"monthly_{name}_kwh", 0.0)
            c.days[name] = [0.0] * 31
    if c.year and c.year != year:
        for name in FLOWS:
            c.years.setdefault(name, {})[c.year] = getattr(c, f"yearly_{name}_kwh")
            setattr(c, f"yearly_{name}_kwh", 0.0)
            c.months[name] = [0.0] * 12
    c.day, c.month, c.year = day, month, year
